import Database from "better-sqlite3";
import type { Sqlite } from "./db.js";

/**
 * The catalog's llm_cache table as a key → JSON text table (created on first use). What the text means and whether
 * to trust it is the classifier's business (src/classify/llm-cache validates every answer it reads back).
 */
export function llmCacheTable(sqlite: Sqlite): {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
} {
  sqlite.exec(
    "CREATE TABLE IF NOT EXISTS llm_cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL)",
  );
  const get = sqlite.prepare<[string], string>("SELECT value FROM llm_cache WHERE key = ?").pluck();
  const set = sqlite.prepare<[string, string, string]>(
    "INSERT INTO llm_cache (key, value, created_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
  );
  return {
    get: (key) => get.get(key),
    set: (key, value) => {
      set.run(key, value, new Date().toISOString());
    },
  };
}

/**
 * Opens the catalog file only for its LLM cache (the classify command, which needs no catalog otherwise): no
 * migrations. Throws when the file cannot be opened or written.
 */
export function openLlmCacheFile(path: string): { table: ReturnType<typeof llmCacheTable>; close(): void } {
  const db = new Database(path);
  try {
    return { table: llmCacheTable(db), close: () => db.close() };
  } catch (err) {
    db.close();
    throw err;
  }
}
