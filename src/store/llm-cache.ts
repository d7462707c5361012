import { eq } from "drizzle-orm";
import { type Catalog, openCatalog, openCurrentCatalog, orm, type Sqlite } from "./db.js";
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
 * 500,000 tools, on every `classify`); a new or older one is created or migrated by openCatalog, as every other
 * command does. Throws when the file cannot be opened, migrated or written.
 */
export function openLlmCacheFile(path: string): { table: ReturnType<typeof llmCacheTable>; close(): void } {
  const cat: Catalog = openCurrentCatalog(path) ?? openCatalog(path);
  try {
    return { table: llmCacheTable(cat.sqlite), close: () => cat.close() };
  } catch (err) {
    cat.close();
    throw err;
  }
}
