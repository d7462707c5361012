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

/** Where a persistent cache keeps its JSON text by key (the store gives one over the catalog's llm_cache table). */
export interface TextTable {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** A cache over a persistent text table (in practice the catalog's); answers are validated on the way out. */
export class PersistentLlmCache implements LlmCache {
  constructor(private readonly table: TextTable) {}

  get(key: string): LlmAnswer | undefined {
    const value = this.table.get(key);
    if (value === undefined) return undefined;
    // A row written by an older build or edited by hand is treated as a miss, not trusted.
    try {
      const parsed = LlmAnswerSchema.safeParse(JSON.parse(value));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  set(key: string, value: LlmAnswer): void {
    this.table.set(key, JSON.stringify(value));
  }
}
