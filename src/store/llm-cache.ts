import { eq } from "drizzle-orm";
import { oneLine } from "../core/errors.js";
import { logger } from "../core/log.js";
import { type Catalog, openCatalog, openCurrentCatalog, orm, refuseDamagedOrNewer, type Sqlite } from "./db.js";
import { llmCache } from "./schema.js";

/**
 * The catalog's llm_cache table (migration 0009) as a key → JSON text table. What the text means and whether to
 * trust it is the classifier's business (src/classify/llm-cache validates every answer it reads back).
 */
export function llmCacheTable(sqlite: Sqlite): {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
} {
  const db = orm(sqlite);
  return {
    get: (key) => db.select({ value: llmCache.value }).from(llmCache).where(eq(llmCache.key, key)).get()?.value,
    set: (key, value) => {
      const createdAt = new Date().toISOString();
      db.insert(llmCache)
        .values({ key, value, createdAt })
        .onConflictDoUpdate({ target: llmCache.key, set: { value, createdAt } })
        .run();
    },
  };
}

/**
 * Opens the catalog file for its LLM cache (the classify command, which needs no catalog otherwise). A catalog that
 * has every migration is used as it is, without the whole-file integrity check a writable open makes (seconds at
 * 500,000 tools, on every `classify`): reads need none, and the check runs once, before the first write — a damaged
 * catalog, or one written by a newer mcp-census, is never written into (issue 17 item 7); its answers are then not
 * cached, with one warning. A new or older file is created or migrated by openCatalog, as every other command does.
 * Throws when the file cannot be opened, migrated or written.
 */
export function openLlmCacheFile(path: string): { table: ReturnType<typeof llmCacheTable>; close(): void } {
  const current = openCurrentCatalog(path);
  const cat: Catalog = current ?? openCatalog(path);
  try {
    const table = llmCacheTable(cat.sqlite);
    if (!current) return { table, close: () => cat.close() };
    let writable: boolean | undefined;
    const set = (key: string, value: string) => {
      if (writable === undefined) {
        try {
          refuseDamagedOrNewer(cat.sqlite, path);
          writable = true;
        } catch (err) {
          writable = false;
          logger.warn(`LLM answers are not cached: ${oneLine(err)}`);
        }
      }
      if (writable) table.set(key, value);
    };
    return { table: { get: table.get, set }, close: () => cat.close() };
  } catch (err) {
    cat.close();
    throw err;
  }
}
