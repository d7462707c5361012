import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyHeuristic } from "../../src/classify/heuristics.js";
import { ingestProbe, saveClassification, toolHash } from "../../src/store/catalog.js";
import { openCatalog } from "../../src/store/db.js";
import { catalogStats } from "../../src/store/queries.js";
import { currentCatalogStats, refreshCatalogStats } from "../../src/store/stats.js";
import { buildTestCatalog, HOSTILE_TOOLS, probe, type TestCatalog } from "./api-fixture.js";

let t: TestCatalog;
beforeAll(() => {
  t = buildTestCatalog();
});
afterAll(() => t.close());

const dirty = () =>
  (t.catalog.sqlite.prepare("SELECT dirty FROM catalog_stats WHERE id = 1").get() as { dirty: number } | undefined)
    ?.dirty;

/** Flag kinds of each current tool, computed from the stored classifications' JSON (what the index must equal). */
function flagKindsFromJson(): string[] {
  const rows = t.catalog.sqlite
    .prepare(
      `SELECT t.id, c.flags FROM tools t JOIN classifications c ON c.hash = t.hash AND c.rowid = (
         SELECT c2.rowid FROM classifications c2 WHERE c2.hash = t.hash ORDER BY c2.created_at DESC, c2.rowid DESC LIMIT 1)`,
    )
    .all() as { id: number; flags: string }[];
  const out = new Set<string>();
  for (const r of rows) for (const f of JSON.parse(r.flags) as string[]) out.add(`${f.split(":")[0]}|${r.id}`);
  return [...out].sort();
}
const flagIndex = () =>
  (t.catalog.sqlite.prepare("SELECT kind, tool_id FROM tool_flags").all() as { kind: string; tool_id: number }[])
    .map((r) => `${r.kind}|${r.tool_id}`)
    .sort();

describe("stored catalog statistics", () => {
  it("are the live figures, stored clean, and marked dirty by a write until recomputed", () => {
    const { sqlite } = t.catalog;
    const first = currentCatalogStats(sqlite);
    expect(first).toEqual(catalogStats(sqlite));
    expect(dirty()).toBe(0);

    // A new server with tools: a write the statistics must see.
    const fs = sqlite
      .prepare("SELECT id FROM servers WHERE name = ?")
      .get("@modelcontextprotocol/server-filesystem") as {
      id: number;
    };
    const before = currentCatalogStats(sqlite).tools;
    ingestProbe(sqlite, fs.id, probe(HOSTILE_TOOLS.map((x) => ({ ...x, name: `${x.name}_again` }))));
    expect(dirty()).toBe(1);
    expect(currentCatalogStats(sqlite)).toEqual(catalogStats(sqlite));
    expect(currentCatalogStats(sqlite).tools).not.toBe(before);
    const other = openCatalog(t.path);
    try {
      // Written through another connection, as a crawl in another process would.
      other.sqlite
        .prepare(
          "UPDATE tools SET removed_at = '2026-02-01T00:00:00.000Z' WHERE id = (SELECT min(id) FROM tools WHERE removed_at IS NULL)",
        )
        .run();
    } finally {
      other.close();
    }
    expect(dirty()).toBe(1);
    const after = currentCatalogStats(sqlite);
    expect(after).toEqual(catalogStats(sqlite));
    expect(after.tools).not.toBe(first.tools);
    expect(dirty()).toBe(0);
    // A reclassification changes the category counts: dirty again, then fresh.
    const victim = HOSTILE_TOOLS[1]!;
    saveClassification(sqlite, toolHash(victim), {
      ...classifyHeuristic({ ...victim, server: "x" }),
      category: "Financial",
      classifierVersion: "test-reclassified",
    });
    expect(dirty()).toBe(1);
    expect(refreshCatalogStats(sqlite)).toEqual(catalogStats(sqlite));
    expect(currentCatalogStats(sqlite)).toEqual(catalogStats(sqlite));
  });

  it("a server's updated_at moves when anything its answers show changes, and only then", async () => {
    const { sqlite } = t.catalog;
    const at = () =>
      (sqlite.prepare("SELECT updated_at AS u FROM servers WHERE name = ?").get("mcp-server-git") as { u: string }).u;
    const before = at();
    expect(Number.isNaN(Date.parse(before))).toBe(false);
    await new Promise((r) => setTimeout(r, 5));
    sqlite.prepare("UPDATE servers SET last_seen = ? WHERE name = ?").run("2030-01-01T00:00:00.000Z", "mcp-server-git");
    expect(at()).toBe(before);
    sqlite.prepare("UPDATE servers SET title = ? WHERE name = ?").run("Git, retitled", "mcp-server-git");
    expect(at() > before).toBe(true);
  });

  it("the flag index equals the current classifications' flags after ingest and reclassification", () => {
    expect(flagIndex().length).toBeGreaterThan(0);
    expect(flagIndex()).toEqual(flagKindsFromJson());
    const poisoned = HOSTILE_TOOLS[0]!;
    saveClassification(t.catalog.sqlite, toolHash(poisoned), {
      ...classifyHeuristic({ ...poisoned, server: "x" }),
      flags: [],
      classifierVersion: "test-cleared",
    });
    expect(flagIndex()).toEqual(flagKindsFromJson());
  });
});
