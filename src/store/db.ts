import { accessSync, constants, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { AppError } from "../core/errors.js";
import * as schema from "./schema.js";

export type Db = BetterSQLite3Database<typeof schema>;

/** An open catalog: the drizzle handle and the raw better-sqlite3 connection (for FTS and hot paths). */
export interface Catalog {
  db: Db;
  sqlite: Database.Database;
  path: string;
  close(): void;
}

const MIGRATIONS = fileURLToPath(new URL("./migrations", import.meta.url));

/** Creation times of the migrations this version ships (drizzle records them in __drizzle_migrations.created_at). */
function knownMigrations(): Set<number> {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS, "meta", "_journal.json"), "utf8")) as {
    entries: { when: number }[];
  };
  return new Set(journal.entries.map((e) => e.when));
}

/**
 * Refuses a catalog that fails PRAGMA quick_check or names a migration this version does not know (AppError db_corrupt
 * or db_unwritable naming the file); every write is preceded by it (openCatalog, or before the first write of a
 * catalog opened with openCurrentCatalog).
 */
export function refuseDamagedOrNewer(sqlite: Database.Database, path: string): void {
  const check = sqlite.pragma("quick_check", { simple: true });
  if (check !== "ok") {
    throw new AppError(
      "db_corrupt",
      `catalog ${path} failed its integrity check (${String(check).slice(0, 120)}); it was left untouched — restore it or point MCP_CENSUS_DB elsewhere`,
    );
  }
  if (!hasTable(sqlite, "__drizzle_migrations")) return;
  const known = knownMigrations();
  const applied = sqlite.prepare("SELECT created_at FROM __drizzle_migrations").all() as { created_at: number }[];
  const unknown = applied.filter((m) => !known.has(Number(m.created_at)));
  if (unknown.length) {
    throw new AppError(
      "db_unwritable",
      `catalog ${path} was written by a newer mcp-census (${unknown.length} migration(s) this version does not know); it was left untouched — upgrade mcp-census`,
    );
  }
}

/** Opens (creating if needed) the catalog, applies committed migrations, and sets WAL. */
export function openCatalog(path: string, opts: { readonly?: boolean } = {}): Catalog {
  const dir = dirname(path);
  if (!opts.readonly) {
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (err) {
      throw new AppError("db_unwritable", `data directory ${dir} is not writable`, { cause: err });
    }
  } else if (!existsSync(path)) {
    throw new AppError("not_found", `no catalog at ${path}: run \`mcp-census crawl\` first`);
  }
  let sqlite: Database.Database;
  try {
    sqlite = new Database(path, { readonly: !!opts.readonly, fileMustExist: !!opts.readonly });
  } catch (err) {
    throw new AppError("db_unwritable", `cannot open catalog ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    // Touching the schema is what reveals a file that is not a database.
    sqlite.prepare("SELECT count(*) FROM sqlite_master").get();
    sqlite.pragma("busy_timeout = 10000");
    // Before anything is written (even the WAL switch): a damaged catalog, or one written by a newer version, is
    // refused and left exactly as it was.
    if (!opts.readonly) refuseDamagedOrNewer(sqlite, path);
    sqlite.pragma("foreign_keys = ON");
    if (!opts.readonly) {
      sqlite.pragma("journal_mode = WAL");
      sqlite.pragma("synchronous = NORMAL");
    }
  } catch (err) {
    sqlite.close();
    if (err instanceof AppError) throw err;
    const code = (err as { code?: string }).code ?? "";
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
      throw new AppError(
        "db_corrupt",
        `catalog ${path} is not a valid SQLite database (corrupted?); it was left untouched — move it aside or point MCP_CENSUS_DB elsewhere`,
        { cause: err },
      );
    }
    throw new AppError("db_unwritable", `cannot use catalog ${path}: ${(err as Error).message}`, { cause: err });
  }
  const db = drizzle(sqlite, { schema });
  if (!opts.readonly) {
    try {
      migrate(db, { migrationsFolder: MIGRATIONS });
    } catch (err) {
      sqlite.close();
      const msg = (err as Error).message;
      const corrupt = /malformed|not a database|corrupt/i.test(msg);
      throw new AppError(corrupt ? "db_corrupt" : "db_unwritable", `cannot migrate catalog ${path}: ${msg}`, {
        cause: err,
      });
    }
  }
  return { db, sqlite, path, close: () => sqlite.close() };
}

/** The raw connection's type, for modules that hand a catalog connection through without touching it. */
export type Sqlite = Database.Database;

const ORMS = new WeakMap<Database.Database, Db>();

/** The drizzle handle over a raw connection (one per connection), for repository functions that take the connection. */
export function orm(sqlite: Database.Database): Db {
  let db = ORMS.get(sqlite);
  if (!db) {
    db = drizzle(sqlite, { schema });
    ORMS.set(sqlite, db);
  }
  return db;
}

/** Runs `fn` in one transaction (a savepoint when one is open already): all of its writes land, or none. */
export function transaction<T>(sqlite: Database.Database, fn: () => T): T {
  return sqlite.transaction(fn)();
}

/**
 * Runs an async write that must commit together with effects that follow from it elsewhere (e.g. Redis: the next
 * job, a done mark), which happen before COMMIT. Holds the write lock (BEGIN IMMEDIATE) across the awaits, so only
 * a single writer may use it — the distributed crawl's ingest consumer.
 */
export async function writeTransaction<T>(sqlite: Database.Database, fn: () => Promise<T>): Promise<T> {
  sqlite.exec("BEGIN IMMEDIATE");
  try {
    const out = await fn();
    sqlite.exec("COMMIT");
    return out;
  } catch (err) {
    if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
    throw err;
  }
}

/**
 * Opens a catalog for a process that only reads it (`mcp-census mcp`, `mcp-census serve`): read-only when the file
 * already has every migration this version knows, so starting costs no integrity check of the whole file (6–13 s at
 * 500,000 tools, on every start of an agent's MCP server or a restart of the API) and nothing can be written. The
 * check guards writes (a damaged catalog must not be written into); a reader that meets a damaged page gets
 * SQLITE_CORRUPT for that read (the API answers 500 and logs it) and the file stays as it was. A catalog that still
 * lacks a migration is opened writable once, which checks and migrates it as every other command does.
 */
export function openCatalogToRead(path: string): Catalog {
  const ro = openCatalog(path, { readonly: true });
  let current = false;
  try {
    current = hasEveryMigration(ro.sqlite);
  } catch {
    // Unreadable: the writable open below checks the file and says what is wrong with it.
  }
  if (current) return ro;
  ro.close();
  return openCatalog(path);
}

/**
 * Whether the file has a table (the catalog's own bookkeeping, which the schema does not describe: drizzle's
 * migration log, or a table a read-only open of an older catalog may lack).
 */
export function hasTable(sqlite: Database.Database, name: string): boolean {
  return !!sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name);
}

/** Whether the open file has every migration this version ships (so nothing would be created or changed). */
function hasEveryMigration(sqlite: Database.Database): boolean {
  if (!hasTable(sqlite, "__drizzle_migrations")) return false;
  const applied = new Set(
    (sqlite.prepare("SELECT created_at FROM __drizzle_migrations").all() as { created_at: number }[]).map((m) =>
      Number(m.created_at),
    ),
  );
  return [...knownMigrations()].every((k) => applied.has(k));
}

/**
 * Opens an existing catalog writable when it already has every migration, without the integrity check of
 * openCatalog (for a process that only keeps a side table in it: the classify command's LLM cache); undefined when
 * there is no such file or it lacks a migration (then openCatalog creates or migrates it). The caller must run
 * refuseDamagedOrNewer before its first write (a damaged or newer catalog is never written into).
 */
export function openCurrentCatalog(path: string): Catalog | undefined {
  if (!existsSync(path)) return undefined;
  let sqlite: Database.Database;
  try {
    sqlite = new Database(path, { fileMustExist: true });
  } catch {
    return undefined;
  }
  try {
    if (hasEveryMigration(sqlite)) {
      sqlite.pragma("busy_timeout = 10000");
      sqlite.pragma("foreign_keys = ON");
      const s = sqlite;
      return { db: drizzle(s, { schema }), sqlite: s, path, close: () => s.close() };
    }
  } catch {
    // Not readable as a catalog: openCatalog says why.
  }
  sqlite.close();
  return undefined;
}
