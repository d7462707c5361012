import { existsSync } from "node:fs";
import type { Command } from "commander";
import { type ConfigInput, loadConfig, type ResolvedConfig } from "../core/config.js";
import { AppError, exitCodeFor, oneLine, storageError } from "../core/errors.js";
import { configureLogger, type LogFormat, type LogLevel } from "../core/log.js";
import { forTerminal } from "../core/terminal.js";
import { type Catalog, openCatalog, openCatalogToRead } from "../store/db.js";

/** Global options every command accepts (declared on the root program). */
export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  db?: string;
  json?: boolean;
  quiet?: boolean;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

/** The resolved config for a command: defaults < config file < environment < global flags < command overrides. */
export function configFor(cmd: Command, overrides: Partial<ConfigInput> = {}): ResolvedConfig {
  const g = cmd.optsWithGlobals() as GlobalOptions;
  const config = loadConfig(
    { dataDir: g.dataDir, dbPath: g.db, logLevel: g.logLevel, logFormat: g.logFormat, ...overrides },
    { configFile: g.config },
  );
  configureLogger({ level: config.logLevel, format: config.logFormat });
  return config;
}

/**
 * Opens the catalog named by the config. With `mustExist` (commands that only serve a catalog), a path with no file
 * is "not found" (exit 3) instead of a new empty catalog served as if it were ready.
 */
export function catalogFor(
  config: ResolvedConfig,
  opts: { readonly?: boolean; mustExist?: boolean; toRead?: boolean } = {},
): Catalog {
  if (opts.mustExist && !existsSync(config.dbPath)) {
    throw new AppError("not_found", `no catalog at ${config.dbPath}: run \`mcp-census crawl\` first (or pass --db)`);
  }
  openedCatalog = config.dbPath;
  // toRead: read-only unless the catalog still needs a migration (see openCatalogToRead).
  if (opts.toRead) return openCatalogToRead(config.dbPath);
  return openCatalog(config.dbPath, { readonly: opts.readonly });
}

/** The catalog file this command opened: what a SQLite "disk full" is about. */
let openedCatalog: string | undefined;

/** A disk failure as a storage error naming its file: an fs error carries its path, SQLite's is the catalog's. */
function withFile(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const sqlite = typeof code === "string" && code.startsWith("SQLITE_");
  return storageError(err, sqlite ? openedCatalog : undefined) ?? err;
}

/** Whether the command was asked for JSON output. */
export function wantsJson(cmd: Command): boolean {
  return !!(cmd.optsWithGlobals() as GlobalOptions).json;
}

/** Wraps a command action: errors become one line on stderr and a meaningful exit code, never a stack trace. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (caught) {
      const err = withFile(caught);
      process.stderr.write(`mcp-census: ${forTerminal(oneLine(err))}\n`);
      if (process.env.MCP_CENSUS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = exitCodeFor(err);
    }
  };
}

/** A command that belongs to an issue not yet resolved: says so clearly. */
export function notYet(what: string): () => never {
  return () => {
    throw new AppError("unsupported", `${what} is not available yet in this version`);
  };
}
