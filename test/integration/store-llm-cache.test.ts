import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openCatalog } from "../../src/store/db.js";
import { llmCacheTable, openLlmCacheFile } from "../../src/store/llm-cache.js";
import { tempDir } from "../helpers/tmp.js";

const journal = JSON.parse(
  readFileSync(new URL("../../src/store/migrations/meta/_journal.json", import.meta.url), "utf8"),
) as { entries: { tag: string; when: number }[] };
const m0009 = journal.entries.find((e) => e.tag === "0009_llm_cache")!.when;

let tmp: ReturnType<typeof tempDir>;
let path: string;
beforeEach(() => {
  tmp = tempDir();
  path = `${tmp.dir}/catalog.db`;
});
afterEach(() => tmp.cleanup());

/** Turns a fresh catalog back into one made before migration 0009, optionally with the table made on first use. */
function asBefore0009(opts: { firstUseTable: boolean }): void {
  openCatalog(path).close();
  const db = new Database(path);
  db.exec("DROP TABLE llm_cache");
  db.prepare("DELETE FROM __drizzle_migrations WHERE created_at = ?").run(m0009);
  if (opts.firstUseTable) {
    // The table exactly as the classifier created it on first use before 0009.
    db.exec(
      "CREATE TABLE IF NOT EXISTS llm_cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL)",
    );
    db.prepare(
      "INSERT INTO llm_cache (key, value, created_at) VALUES ('k1', '{\"a\":1}', '2026-01-01T00:00:00Z')",
    ).run();
  }
  db.close();
}

const migrations = () => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT created_at FROM __drizzle_migrations").all() as { created_at: number }[]).map((r) =>
      Number(r.created_at),
    );
  } finally {
    db.close();
  }
};

describe("the LLM cache table (migration 0009)", () => {
  it("is migrated into a catalog that made it on first use, keeping its answers", () => {
    asBefore0009({ firstUseTable: true });
    expect(migrations()).not.toContain(m0009);
    const file = openLlmCacheFile(path);
    try {
      expect(file.table.get("k1")).toBe('{"a":1}');
      file.table.set("k2", '{"b":2}');
      file.table.set("k1", '{"a":3}');
      expect(file.table.get("k1")).toBe('{"a":3}');
      expect(file.table.get("k2")).toBe('{"b":2}');
    } finally {
      file.close();
    }
    expect(migrations()).toContain(m0009);
  });

  it("is created in an older catalog that never used the LLM, and by a crawl's open", () => {
    asBefore0009({ firstUseTable: false });
    const cat = openCatalog(path);
    try {
      const table = llmCacheTable(cat.sqlite);
      expect(table.get("k1")).toBeUndefined();
      table.set("k1", "{}");
      expect(table.get("k1")).toBe("{}");
    } finally {
      cat.close();
    }
    expect(migrations()).toContain(m0009);
  });

  it("opens a current catalog as it is and creates a missing one fully migrated", () => {
    const fresh = openLlmCacheFile(`${tmp.dir}/new/catalog.db`);
    fresh.table.set("k", "v");
    fresh.close();
    const cat = openCatalog(`${tmp.dir}/new/catalog.db`);
    try {
      expect(llmCacheTable(cat.sqlite).get("k")).toBe("v");
    } finally {
      cat.close();
    }
    openCatalog(path).close();
    const again = openLlmCacheFile(path);
    try {
      again.table.set("x", "y");
      expect(again.table.get("x")).toBe("y");
    } finally {
      again.close();
    }
  });
});
