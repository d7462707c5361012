import type Database from "better-sqlite3";
import { type LlmAnswer, LlmAnswerSchema } from "./llm.js";

/** Where LLM answers are kept between runs, keyed by definition hash + model + prompt version. */
export interface LlmCache {
  get(key: string): LlmAnswer | undefined;
  set(key: string, value: LlmAnswer): void;
}

/** A cache that lives as long as the process. */
export class MemoryLlmCache implements LlmCache {
  private readonly map = new Map<string, LlmAnswer>();
  get(key: string): LlmAnswer | undefined {
    return this.map.get(key);
  }
  set(key: string, value: LlmAnswer): void {
    this.map.set(key, value);
  }
  get size(): number {
    return this.map.size;
  }
}

/** A cache in the catalog's SQLite database; it creates its own table and never opens files itself. */
export class SqliteLlmCache implements LlmCache {
  private readonly getStmt: Database.Statement<[string], { value: string }>;
  private readonly setStmt: Database.Statement<[string, string, string]>;

  constructor(db: Database.Database) {
    db.exec(
      "CREATE TABLE IF NOT EXISTS llm_cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL)",
    );
    this.getStmt = db.prepare("SELECT value FROM llm_cache WHERE key = ?");
    this.setStmt = db.prepare(
      "INSERT INTO llm_cache (key, value, created_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
    );
  }

  get(key: string): LlmAnswer | undefined {
    const row = this.getStmt.get(key);
    if (!row) return undefined;
    // A row written by an older build or edited by hand is treated as a miss, not trusted.
    try {
      const parsed = LlmAnswerSchema.safeParse(JSON.parse(row.value));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  set(key: string, value: LlmAnswer): void {
    this.setStmt.run(key, JSON.stringify(value), new Date().toISOString());
  }
}
