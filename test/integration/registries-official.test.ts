import { afterEach, describe, expect, it } from "vitest";
import { crawlSource, createAdapter, readCheckpoint, USER_AGENT } from "../../src/registries/index.js";
import {
  count,
  loopback,
  type OfficialItem,
  officialHandler,
  officialSeed,
  quickHttp,
  tempCatalog,
  wrapOfficial,
} from "./registries-helpers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(items: OfficialItem[], opts: Parameters<typeof officialHandler>[1] = {}) {
  const srv = await loopback(officialHandler(items, opts));
  const cat = tempCatalog();
  cleanups.push(srv.close, cat.dispose);
  const adapter = createAdapter("official", { baseUrl: srv.base });
  return { srv, cat, adapter };
}

describe("official registry adapter on a replay of the 358 real seed entries", () => {
  it("crawls every page into one server per entry, politely", async () => {
    const items = officialSeed().map((s) => wrapOfficial(s));
    const { srv, cat, adapter } = await setup(items);
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ complete: true, stoppedBy: "end", pages: 4, entries: 358, created: 357, skipped: 0 });
    // Two real entries (mendableai/firecrawl-mcp-server, vrknetha/mcp-server-firecrawl) publish the same npm
    // package, firecrawl-mcp: one real server, two names.
    expect(count(cat, "SELECT count(*) n FROM servers")).toBe(357);
    expect(count(cat, "SELECT count(*) n FROM sources WHERE source_id = 'official'")).toBe(358);
    expect(srv.requests.map((r) => r.url.searchParams.get("limit"))).toEqual(["100", "100", "100", "100"]);
    expect(srv.requests.every((r) => r.headers["user-agent"] === USER_AGENT)).toBe(true);
    const cf = cat.sqlite
      .prepare("SELECT * FROM servers WHERE name = 'com.cloudflare/mcp-server-cloudflare'")
      .get() as {
      remotes: string;
    };
    expect(JSON.parse(cf.remotes)).toHaveLength(2);
    // A finished crawl leaves no cursor to resume, and records when it started.
    const cp = readCheckpoint(cat.sqlite, "official");
    expect(cp?.cursor).toBeNull();
    expect(cp?.state.lastComplete?.startedAt).toBe(stats.startedAt);
  });

  it("keeps the latest version as the server and counts the others", async () => {
    const seed = officialSeed();
    const items = seed.map((s) => wrapOfficial({ ...s, version: "2.0.0" }));
    // Older versions arrive after the latest, as the API lists versions of one name together.
    for (const s of seed.slice(0, 5)) {
      const old = wrapOfficial({ ...s, version: "1.0.0", description: "old" });
      old._meta["io.modelcontextprotocol.registry/official"].isLatest = false;
      items.push(old);
    }
    const { cat, adapter } = await setup(items);
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ complete: true, entries: 358, olderVersions: 5 });
    const versions = cat.sqlite.prepare("SELECT DISTINCT version FROM servers").all();
    expect(versions).toEqual([{ version: "2.0.0" }]);
  });

  it("incremental crawl asks only for what changed since the last one and marks a deleted entry", async () => {
    const items = officialSeed().map((s) => wrapOfficial(s, "2025-09-29T00:00:00Z"));
    const { srv, cat, adapter } = await setup(items);
    const full = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(full.complete).toBe(true);

    await new Promise((r) => setTimeout(r, 5));
    const later = new Date().toISOString();
    const changed = items[10]!;
    changed.server = { ...changed.server, description: "A new description" };
    changed._meta["io.modelcontextprotocol.registry/official"].updatedAt = later;
    const gone = items[20]!;
    gone._meta["io.modelcontextprotocol.registry/official"].status = "deleted";
    gone._meta["io.modelcontextprotocol.registry/official"].updatedAt = later;
    srv.requests.length = 0;
    await new Promise((r) => setTimeout(r, 5));

    const inc = await crawlSource(cat.sqlite, adapter, { http: quickHttp(), incremental: true });
    expect(inc).toMatchObject({ mode: "incremental", complete: true, pages: 1, entries: 2, markedRemoved: 0 });
    expect(srv.requests).toHaveLength(1);
    expect(srv.requests[0]!.url.searchParams.get("updated_since")).toBe(full.startedAt);
    const name = (i: OfficialItem) => i.server.name as string;
    const row = (n: string) =>
      cat.sqlite
        .prepare(
          "SELECT s.status, s.description, src.status AS src_status FROM servers s JOIN sources src ON src.server_id = s.id WHERE s.name = ?",
        )
        .get(n) as { status: string; description: string; src_status: string };
    expect(row(name(changed)).description).toBe("A new description");
    expect(row(name(gone))).toMatchObject({ status: "deleted", src_status: "deleted" });
    // Nothing else was touched: an incremental listing proves nothing about absent entries.
    expect(count(cat, "SELECT count(*) n FROM servers WHERE status = 'active'")).toBe(356);

    // The next incremental crawl asks from this one's start and gets nothing new.
    srv.requests.length = 0;
    const again = await crawlSource(cat.sqlite, adapter, { http: quickHttp(), incremental: true });
    expect(again).toMatchObject({ entries: 0, complete: true });
    expect(srv.requests[0]!.url.searchParams.get("updated_since")).toBe(inc.startedAt);
  });

  it("a server no longer listed after a complete full crawl is marked removed, not dropped", async () => {
    const items = officialSeed().map((s) => wrapOfficial(s));
    const { cat, adapter } = await setup(items);
    await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    const [removed] = items.splice(42, 1);
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ complete: true, entries: 357, markedRemoved: 1 });
    const row = cat.sqlite.prepare("SELECT status FROM servers WHERE name = ?").get(removed!.server.name) as {
      status: string;
    };
    expect(row.status).toBe("removed");
    expect(count(cat, "SELECT count(*) n FROM servers")).toBe(357);
  });

  it("an incomplete crawl (page cap) marks nothing removed and the next call continues from the checkpoint", async () => {
    const items = officialSeed().map((s) => wrapOfficial(s));
    const { srv, cat, adapter } = await setup(items);
    await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    items.splice(300, 1);
    srv.requests.length = 0;
    const part = await crawlSource(cat.sqlite, adapter, { http: quickHttp(), maxPages: 2 });
    expect(part).toMatchObject({ complete: false, stoppedBy: "max_pages", pages: 2, markedRemoved: 0 });
    expect(count(cat, "SELECT count(*) n FROM servers WHERE status = 'removed'")).toBe(0);
    const rest = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(rest).toMatchObject({ complete: true, pages: 2, markedRemoved: 1 });
    expect(rest.resumedFrom).toBe(srv.requests[2]!.url.searchParams.get("cursor"));
    expect(rest.startedAt).toBe(part.startedAt);
  });

  it("sends validators and treats 304 pages as seen", async () => {
    const items = officialSeed().map((s) => wrapOfficial(s));
    const { srv, cat, adapter } = await setup(items, { etags: true });
    const first = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(first).toMatchObject({ complete: true, entries: 358, notModifiedPages: 0 });
    srv.requests.length = 0;
    const http = quickHttp();
    const second = await crawlSource(cat.sqlite, adapter, { http });
    expect(srv.requests.every((r) => typeof r.headers["if-none-match"] === "string")).toBe(true);
    expect(second).toMatchObject({ complete: true, pages: 4, notModifiedPages: 4, entries: 0, markedRemoved: 0 });
    expect(http.stats.notModified).toBe(4);
    expect(
      count(cat, "SELECT count(*) n FROM sources WHERE status = 'active' AND last_seen >= ?", second.startedAt),
    ).toBe(358);
  });
});
