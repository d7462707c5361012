import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import type { RawTool } from "../core/types.js";
import { CHANGE_COLUMNS, type StoredChange, toStoredChange } from "./changes.js";
import {
  CLASSIFICATION_JOIN,
  classificationFrom,
  type ProbeRow,
  type ServerRow,
  TOOL_COLUMNS,
  type ToolRow,
  toProbeRow,
  toServerRow,
} from "./queries.js";

/*
 * The static site's reads: the measured hot path of `site` (bench-site: 500,000 tools), so they stay prepared
 * statements, tool rows as arrays.
 */

/**
 * The servers the site publishes: not removed, and not the user's own `probe --command` runs (stored as
 * "local:<command line>", which would publish their local paths).
 */
const PUBLISHED = "status != 'removed' AND name NOT LIKE 'local:%'";

/** A registry listing of a server, as shown on its pages (no last-seen: it moves on every crawl). */
export interface SourceRow {
  sourceId: string;
  sourceKey: string;
  status: string;
  firstSeen: string;
  popularity: number | null;
}

/** One stored definition of a tool, oldest first. */
export interface VersionRow {
  hash: string;
  raw: RawTool;
  firstSeen: string;
  lastSeen: string;
}

/** Everything the pages of one server read. */
export interface ServerBundle<C extends StoredChange = StoredChange> {
  server: ServerRow;
  tools: ToolRow[];
  probe: ProbeRow | undefined;
  sources: SourceRow[];
  versions: Map<string, VersionRow[]>;
  /** Recorded change events of the server's tools, oldest first. */
  changes: C[];
  /** Characters of the JSON array of the tools' definitions (what a client sends on every request). */
  toolsJsonChars: number;
}

/**
 * A fingerprint of each server's own data, so that an unchanged server is skipped without reading its tools:
 * probes are the only writer of tools and definition history, and every probe moves servers.last_probe_id. With
 * revision counters it is the counter; otherwise a hash of the shown columns, listings and change events.
 * Last-seen columns are left out on purpose: they move on every crawl and are not shown. Classifications are
 * tracked apart (see classifiedSince).
 */
export function serverFingerprints(sqlite: Database.Database): Map<number, { slug: string; fp: string }> {
  const out = new Map<number, { slug: string; fp: string }>();
  // A catalog with revision counters (migration 0004) says what changed in one narrow column.
  if (hasRev(sqlite)) {
    // Rows as arrays: cheaper than 40,000 row objects.
    for (const [id, slug, rev] of sqlite
      .prepare(`SELECT id, slug, rev FROM servers WHERE ${PUBLISHED}`)
      .raw()
      .all() as [number, string, number][]) {
      out.set(id, { slug, fp: `rev${rev}` });
    }
    return out;
  }
  // An older catalog opened read-only: fingerprint the columns themselves.
  const sources = new Map<number, string>();
  for (const r of sqlite
    .prepare(
      `SELECT server_id AS sid, group_concat(source_id || ':' || source_key || ':' || status || ':' || first_seen || ':' ||
        coalesce(popularity,''), ',') AS f FROM sources GROUP BY server_id`,
    )
    .all() as { sid: number; f: string }[]) {
    sources.set(r.sid, r.f);
  }
  // Change events are recorded after the probe that caused them: a server re-renders when its events move too.
  const changes = new Map<number, string>();
  for (const r of (hasChanges(sqlite) ? sqlite : NO_ROWS)
    .prepare("SELECT server_id AS sid, max(id) || ':' || count(*) AS f FROM changes GROUP BY server_id")
    .all() as { sid: number; f: string }[]) {
    changes.set(r.sid, r.f);
  }
  const servers = sqlite
    .prepare(
      `SELECT id, slug, name || '|' || coalesce(title,'') || '|' || coalesce(description,'') || '|' || coalesce(version,'') || '|' ||
        coalesce(repository_url,'') || '|' || coalesce(website_url,'') || '|' || packages || '|' || remotes || '|' ||
        status || '|' || first_seen || '|' || coalesce(last_probe_id,'') || '|' || coalesce(last_ok_probe_at,'') AS f
       FROM servers WHERE ${PUBLISHED}`,
    )
    .all() as { id: number; slug: string; f: string }[];
  for (const s of servers) {
    const fp = createHash("sha1")
      .update(`${s.slug}\n${s.f}\n${sources.get(s.id) ?? ""}\n${changes.get(s.id) ?? ""}`)
      .digest("base64url");
    out.set(s.id, { slug: s.slug, fp });
  }
  return out;
}

/** Whether the catalog keeps per-server revision counters (maintained by triggers). */
export function hasRev(sqlite: Database.Database): boolean {
  return (sqlite.prepare("SELECT name FROM pragma_table_info('servers')").pluck().all() as string[]).includes("rev");
}

/** Whether the catalog has change events (an older catalog opened read-only may lack the table). */
export function hasChanges(sqlite: Database.Database): boolean {
  return !!sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'changes'").get();
}

/** Stands in for a catalog without the changes table: every query against it returns no rows. */
const NO_ROWS = { prepare: () => ({ all: () => [] }) } as unknown as Database.Database;

/** The newest classification row id, and the servers whose current tools got a classification after `since`. */
export function classifiedSince(sqlite: Database.Database, since: number): { maxRowid: number; servers: Set<number> } {
  const maxRowid = (sqlite.prepare("SELECT coalesce(max(rowid), 0) AS m FROM classifications").get() as { m: number })
    .m;
  const servers = new Set<number>();
  if (maxRowid > since) {
    for (const r of sqlite
      .prepare(
        // The new rows first (a rowid range), then their tools by hash: a join would scan every tool.
        `SELECT DISTINCT server_id AS id FROM tools
         WHERE hash IN (SELECT hash FROM classifications WHERE rowid > ?) AND removed_at IS NULL`,
      )
      .all(since) as { id: number }[]) {
      servers.add(r.id);
    }
  }
  return { maxRowid, servers };
}

/** Loads one server with its tools, latest probe, listings and definition history. */
export function loadServerBundle<C extends StoredChange = StoredChange>(
  sqlite: Database.Database,
  serverId: number,
  stmts = prepareBundleStatements(sqlite),
): ServerBundle<C> | undefined {
  const r = stmts.server.get(serverId) as Record<string, unknown> | undefined;
  if (!r) return undefined;
  const server = toServerRow(r);
  // The definition (raw) is the bulk of a tool row and pages need only its length: it is read and parsed only if
  // something asks for it. The length is SQLite's (characters), which counts a character outside the BMP once.
  let toolsJsonChars = 1;
  const tools = (stmts.tools.all(serverId) as unknown[][]).map((r) => {
    toolsJsonChars += Number(r[T.rawLen] ?? 0) + 1;
    return siteToolRow(r, stmts.rawOf);
  });
  if (!tools.length) toolsJsonChars = 2;
  const p = server.lastProbeId
    ? (stmts.probe.get(server.lastProbeId) as Record<string, unknown> | undefined)
    : undefined;
  const sources = stmts.sources.all(serverId) as SourceRow[];
  const versions = new Map<string, VersionRow[]>();
  for (const v of stmts.versions.all(serverId) as {
    id: number;
    name: string;
    hash: string;
    firstSeen: string;
    lastSeen: string;
  }[]) {
    const list = versions.get(v.name) ?? [];
    if (!list.length) versions.set(v.name, list);
    list.push(lazyVersion(v, stmts.versionRaw));
  }
  const changes = (stmts.changes.all(serverId) as Record<string, unknown>[]).map((r) => toStoredChange<C>(r));
  return { server, tools, probe: p ? toProbeRow(p) : undefined, sources, versions, changes, toolsJsonChars };
}

/**
 * A version whose raw definition is read and parsed only when asked for: pages read it only to compare a version with
 * the one before, so most tools (one version) never need it, and reading every version's text with the rows was
 * most of a bundle's bytes.
 */
function lazyVersion(
  v: { id: number; name: string; hash: string; firstSeen: string; lastSeen: string },
  rawOf: Database.Statement,
): VersionRow {
  let parsed: RawTool | undefined;
  return {
    hash: v.hash,
    firstSeen: v.firstSeen,
    lastSeen: v.lastSeen,
    get raw(): RawTool {
      if (!parsed) {
        const text = rawOf.get(v.id) as string | undefined;
        parsed = text ? (JSON.parse(text) as RawTool) : { name: v.name };
      }
      return parsed;
    },
  };
}

/** The tool columns pages read, by position (the definition itself only by length). */
// TOOL_COLUMNS with the definition replaced by its length; rows come as arrays in that column order (see T).
const SITE_TOOL_COLUMNS = TOOL_COLUMNS.replace("t.raw,", "length(t.raw),");
const T = {
  id: 0,
  serverId: 1,
  name: 2,
  slug: 3,
  title: 4,
  description: 5,
  inputSchema: 6,
  outputSchema: 7,
  annotations: 8,
  rawLen: 9,
  hash: 10,
  firstSeen: 11,
  lastSeen: 12,
  removedAt: 13,
  access: 14,
  destructive: 15,
  financial: 16,
  category: 17,
  risk: 18,
  confidence: 19,
  signals: 20,
  flags: 21,
  source: 22,
  version: 23,
} as const;
const parse = <V>(s: unknown, fallback: V): V => (typeof s === "string" ? (JSON.parse(s) as V) : fallback);

/** A ToolRow (as src/store/queries reads it) from a SITE_TOOL_COLUMNS array; its definition is read on demand. */
function siteToolRow(r: unknown[], rawOf: Database.Statement): ToolRow {
  const id = r[T.id] as number;
  const name = r[T.name] as string;
  let parsed: RawTool | undefined;
  return {
    id,
    serverId: r[T.serverId] as number,
    name,
    slug: r[T.slug] as string,
    title: (r[T.title] as string | null) ?? null,
    description: (r[T.description] as string | null) ?? null,
    inputSchema: parse(r[T.inputSchema], null),
    outputSchema: parse(r[T.outputSchema], null),
    annotations: parse(r[T.annotations], null),
    get raw(): RawTool {
      if (!parsed) {
        const text = rawOf.get(id) as string | undefined;
        parsed = text ? (JSON.parse(text) as RawTool) : { name };
      }
      return parsed;
    },
    rawChars: Number(r[T.rawLen] ?? 0),
    hash: r[T.hash] as string,
    firstSeen: r[T.firstSeen] as string,
    lastSeen: r[T.lastSeen] as string,
    removedAt: (r[T.removedAt] as string | null) ?? null,
    classification: classificationFrom(r.slice(T.access, T.version + 1)),
  };
}

/** Prepared statements reused across servers during a build. */
export type BundleStatements = ReturnType<typeof prepareBundleStatements>;

/** Prepared statements reused across servers during a build. */
export function prepareBundleStatements(sqlite: Database.Database) {
  return {
    server: sqlite.prepare("SELECT * FROM servers WHERE id = ?"),
    // Rows as arrays (columns by position, see T): noticeably cheaper than an object per row at 500,000 tools.
    tools: sqlite
      .prepare(
        `SELECT ${SITE_TOOL_COLUMNS} FROM tools t ${CLASSIFICATION_JOIN}
         WHERE t.server_id = ? AND t.removed_at IS NULL ORDER BY t.name`,
      )
      .raw(true),
    rawOf: sqlite.prepare("SELECT raw FROM tools WHERE id = ?").pluck(),
    probe: sqlite.prepare("SELECT * FROM probes WHERE id = ?"),
    sources: sqlite.prepare(
      `SELECT source_id AS sourceId, source_key AS sourceKey, status, first_seen AS firstSeen, popularity
       FROM sources WHERE server_id = ? AND status != 'removed' ORDER BY source_id, source_key`,
    ),
    versions: sqlite.prepare(
      `SELECT id, tool_name AS name, hash, first_seen AS firstSeen, last_seen AS lastSeen FROM tool_versions
       WHERE server_id = ? ORDER BY tool_name, first_seen, id`,
    ),
    versionRaw: sqlite.prepare("SELECT raw FROM tool_versions WHERE id = ?").pluck(),
    changes: (hasChanges(sqlite) ? sqlite : NO_ROWS).prepare(
      `SELECT ${CHANGE_COLUMNS} FROM changes c JOIN servers s ON s.id = c.server_id WHERE c.server_id = ? ORDER BY c.id`,
    ),
  };
}

/** The catalog's file path, or null for an in-memory catalog (which other threads cannot open). */
export function catalogFile(sqlite: Database.Database): string | null {
  return !sqlite.name || sqlite.name === ":memory:" || sqlite.memory ? null : sqlite.name;
}

/**
 * How much of the catalog a reader maps into memory instead of reading it page by page through SQLite's 2 MB cache:
 * a render worker reads every server's rows once, and at 500k tools the catalog is 2 GB.
 */
const READER_MMAP = 1 << 30;

/** A read-only connection of its own to a catalog file (for a render worker thread). */
export function openCatalogReader(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma("busy_timeout = 10000");
  db.pragma(`mmap_size = ${READER_MMAP}`);
  return db;
}

/** When the catalog's first server was first seen (an empty catalog feed's `updated`), if any server exists. */
export function catalogSince(sqlite: Database.Database): string | undefined {
  const r = sqlite.prepare("SELECT min(first_seen) AS t FROM servers").get() as { t: string | null } | undefined;
  return r?.t ?? undefined;
}
