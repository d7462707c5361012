import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCatalog } from "../../scripts/gen-catalog.js";
import { emptyProbeResult } from "../../src/core/types.js";
import { compareRows, GlobalIndex, type IndexRow, rowOf } from "../../src/site/global-index.js";
import { buildSite } from "../../src/site/index.js";
import type { ServerMeta } from "../../src/site/server-pages.js";
import { ingestProbe } from "../../src/store/catalog.js";
import { type Catalog, openCatalog } from "../../src/store/db.js";
import { serverTools } from "../../src/store/queries.js";
import { SiteState } from "../../src/store/site-state.js";

/**
 * Every file of two site folders, the same paths with the same bytes — but the search shards: an incremental build
 * keeps its shard keys and adds one for a new token prefix where a fresh plan may cut differently (the same postings;
 * site-build.test.ts compares shards where the plan cannot differ). This test is about the global pages.
 */
function expectSameSite(a: string, b: string): void {
  const list = (root: string, dir = ""): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? list(root, join(dir, e.name)) : [join(dir, e.name)]))
      .filter((f) => !f.startsWith("search/"));
  const files = list(b).sort();
  expect(list(a).sort()).toEqual(files);
  for (const f of files) expect(readFileSync(join(a, f), "utf8"), f).toBe(readFileSync(join(b, f), "utf8"));
}

describe("the global pages' index kept in the build state", () => {
  let dir: string;
  let cat: Catalog;
  // Small pages, so 40 servers make many listing pages whose boundaries a change can move.
  const opts = { baseUrl: "https://census.example/", pageSize: { target: 8, max: 16 } };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "census-gidx-"));
    generateCatalog({ servers: 40, tools: 200, out: join(dir, "catalog.db"), seed: 7 });
    cat = openCatalog(join(dir, "catalog.db"));
  });
  afterAll(() => {
    cat.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ids = () =>
    cat.sqlite
      .prepare("SELECT DISTINCT server_id FROM tools WHERE removed_at IS NULL ORDER BY server_id")
      .pluck()
      .all() as number[];
  let n = 0;
  /** After a change: the incremental build equals a full build of the same catalog, byte for byte. */
  const rebuildAndCompare = async () => {
    const r = await buildSite(cat.sqlite, join(dir, "site"), opts);
    const fresh = join(dir, `fresh-${++n}`);
    await buildSite(cat.sqlite, fresh, opts);
    expectSameSite(join(dir, "site"), fresh);
    rmSync(fresh, { recursive: true, force: true });
    rmSync(`${fresh}.state.db`, { force: true });
    return r;
  };
  const reprobe = (id: number, edit: (tools: ReturnType<typeof serverTools>) => unknown[]) => {
    const now = new Date(Date.UTC(2026, 3, 1, 0, n)).toISOString();
    ingestProbe(
      cat.sqlite,
      id,
      {
        ...emptyProbeResult("ok", "stdio"),
        startedAt: now,
        durationMs: 5,
        tools: edit(serverTools(cat.sqlite, id)) as never,
      },
      now,
    );
  };

  it("gives the same site incrementally as in full after renames, removals, new tools and new servers' order", async () => {
    await buildSite(cat.sqlite, join(dir, "site"), opts);
    const all = ids();
    // A description changes (the benchmark's one-server change).
    reprobe(all[3]!, (ts) => ts.map((t, i) => (i ? t.raw : { ...t.raw, description: `${t.raw.description} (v2)` })));
    expect((await rebuildAndCompare()).serversRendered).toBe(1);
    // A server is renamed to the front of name order, another to the end.
    cat.sqlite.prepare("UPDATE servers SET title = 'Aaa first server' WHERE id = ?").run(all[10]);
    cat.sqlite.prepare("UPDATE servers SET title = 'Zzz last server' WHERE id = ?").run(all[0]);
    expect((await rebuildAndCompare()).serversRendered).toBe(2);
    // A server loses half its tools (its counts and category rows change), another gains copies of its own.
    reprobe(all[20]!, (ts) => ts.slice(0, Math.ceil(ts.length / 2)).map((t) => t.raw));
    reprobe(all[21]!, (ts) => [...ts.map((t) => t.raw), ...ts.map((t) => ({ ...t.raw, name: `${t.raw.name}_copy` }))]);
    await rebuildAndCompare();
    // A server is removed from the catalog; one that was not listed comes back under a new title.
    cat.sqlite.prepare("UPDATE servers SET status = 'removed' WHERE id = ?").run(all[25]);
    cat.sqlite.prepare("UPDATE servers SET title = 'Mmm middle' WHERE id = ?").run(all[28]);
    expect((await rebuildAndCompare()).serversRemoved).toBe(1);
    cat.sqlite.prepare("UPDATE servers SET status = 'active' WHERE id = ?").run(all[25]);
    await rebuildAndCompare();
  }, 300_000);

  it("is read back as it was stored, and updating it gives the index sorting everything gives", () => {
    const state = new SiteState<ServerMeta>(join(dir, "site.state.db"));
    try {
      const metas = state.metas();
      expect(metas.length).toBeGreaterThan(30);
      const rows = metas.map((x) => rowOf(x.meta, x.sfp, x.ufp)).sort(compareRows);
      const ix = GlobalIndex.fromRows(rows);
      const rowsOf = (g: GlobalIndex) => Array.from({ length: g.length }, (_, i) => g.row(i));
      // A row read back has the counts the summary had (key order aside) and the fingerprints made from it.
      const norm = (r: IndexRow) => ({ ...r, sources: [...r.sources].sort() });
      expect(rowsOf(ix).map(norm)).toEqual(rows.map(norm));
      const back = GlobalIndex.parse(ix.serialize())!;
      expect(rowsOf(back)).toEqual(rowsOf(ix));
      // The index the last build saved is the one made from every summary.
      expect(rowsOf(GlobalIndex.parse(state.blob("globalIndex")!)!)).toEqual(rowsOf(ix));
      // Take some out, put changed ones back (one with a category and a registry no other server has): the same
      // index as building it from all rows.
      const changed = new Map<number, IndexRow>(
        rows.slice(5, 9).map((r, i) => [
          r.id,
          {
            ...r,
            key: i % 2 ? "zz" : "a",
            toolCount: r.toolCount + 1,
            ...(i === 2 ? { byCategory: { ...r.byCategory, Novel: 2 }, sources: [...r.sources, "aaa-registry"] } : {}),
          },
        ]),
      );
      const removed = new Set([rows[20]!.id, rows[30]!.id]);
      const expected = GlobalIndex.fromRows([
        ...rows.filter((r) => !changed.has(r.id) && !removed.has(r.id)),
        ...changed.values(),
      ]);
      expect(rowsOf(back.update(changed, removed))).toEqual(rowsOf(expected));
      expect(back.update(changed, removed).serialize().equals(expected.serialize())).toBe(true);
    } finally {
      state.close();
    }
  });
});
