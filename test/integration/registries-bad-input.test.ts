import { afterEach, describe, expect, it } from "vitest";
import { crawlSource, createAdapter, HttpClient, readCheckpoint } from "../../src/registries/index.js";
import {
  count,
  loopback,
  type OfficialItem,
  officialHandler,
  officialSeed,
  quickHttp,
  sendJson,
  tempCatalog,
  wrapOfficial,
} from "./registries-helpers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Override = NonNullable<Parameters<typeof officialHandler>[1]>["override"];

async function setup(items: OfficialItem[], override?: Override) {
  const srv = await loopback(officialHandler(items, { override }));
  const cat = tempCatalog();
  cleanups.push(srv.close, cat.dispose);
  return { srv, cat, adapter: createAdapter("official", { baseUrl: srv.base }) };
}

const seedItems = () => officialSeed().map((s) => wrapOfficial(s));
const errorsOf = (cat: ReturnType<typeof tempCatalog>) =>
  cat.sqlite.prepare("SELECT error, raw FROM source_errors ORDER BY id").all() as {
    error: string;
    raw: string | null;
  }[];
const secondPage = (url: URL) => url.searchParams.get("cursor") === Buffer.from("100").toString("base64url");

describe("bad input from a source: counted, visible, never a crash or a half-written catalog", () => {
  it("malformed JSON on page 2 stops the crawl with page 1 stored and the cursor kept; the next crawl resumes", async () => {
    let broken = true;
    const { cat, adapter } = await setup(seedItems(), (url, res) => {
      if (!broken || !secondPage(url)) return false;
      sendJson(res, '{"servers": [{"server": {"name": "io.github.a/b"');
      return true;
    });
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ complete: false, stoppedBy: "error", pages: 1, entries: 100, errors: 1 });
    expect(stats.error?.message).toMatch(/invalid JSON at line 1, column \d+/);
    const [err] = errorsOf(cat);
    expect(err?.error).toContain("/v0.1/servers");
    expect(err?.raw).toContain('"io.github.a/b"');
    expect(count(cat, "SELECT count(*) n FROM sources")).toBe(100);
    expect(readCheckpoint(cat.sqlite, "official")?.cursor).toBe(Buffer.from("100").toString("base64url"));

    broken = false;
    const rest = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(rest).toMatchObject({ complete: true, pages: 3, entries: 258, markedRemoved: 0 });
    expect(count(cat, "SELECT count(*) n FROM sources WHERE status = 'active'")).toBe(358);
  });

  it("HTML where JSON was expected is a clear counted error", async () => {
    const { cat, adapter } = await setup(seedItems(), (_url, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<!doctype html><html><body><h1>Just a moment…</h1></body></html>");
      return true;
    });
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ complete: false, stoppedBy: "error", errors: 1, entries: 0 });
    expect(stats.error).toMatchObject({ code: "bad_input" });
    expect(stats.error?.message).toMatch(/expected JSON but got HTML \(HTTP 200, text\/html/);
    expect(errorsOf(cat)[0]?.raw).toContain("Just a moment");
  });

  it("a page whose shape changed is stored as an error with its payload", async () => {
    const { cat, adapter } = await setup(seedItems(), (_url, res) => {
      sendJson(res, { items: [{ name: "x" }], next: null });
      return true;
    });
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ stoppedBy: "error", errors: 1 });
    expect(stats.error?.message).toMatch(/page shape changed: servers: /);
    expect(errorsOf(cat)[0]?.raw).toContain('"items"');
  });

  it("entries of the wrong shape are skipped and counted with their payload; the rest are stored", async () => {
    const items = seedItems() as unknown[];
    items[3] = null;
    items[150] = { server: "not an object" };
    const bad = wrapOfficial({ name: "io.github.bad/packages", packages: "npm:bad" });
    items[250] = bad;
    const noName = wrapOfficial({ description: "no name" });
    items[300] = noName;
    const { cat, adapter } = await setup(items as OfficialItem[]);
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ complete: true, skipped: 4, errors: 4, entries: 354 });
    const errs = errorsOf(cat);
    expect(errs.map((e) => e.error).join("\n")).toMatch(/entry 3: not an object/);
    const pkg = errs.find((e) => e.error.includes("io.github.bad/packages"));
    expect(pkg?.error).toMatch(/entry 50 \("io.github.bad\/packages"\): invalid entry: packages: /);
    expect(pkg?.raw).toContain("npm:bad");
    expect(errs.some((e) => /name is missing/.test(e.error))).toBe(true);
  });

  it("a repeating cursor stops the crawl with a counted error and is not resumed into", async () => {
    const items = seedItems();
    const { cat, adapter } = await setup(items, (url, res) => {
      const cursor = url.searchParams.get("cursor");
      const start = cursor === "again" ? 100 : 0;
      sendJson(res, { servers: items.slice(start, start + 100), metadata: { nextCursor: "again" } });
      return true;
    });
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ complete: false, stoppedBy: "cursor_loop", pages: 2, entries: 200, errors: 1 });
    expect(errorsOf(cat)[0]?.error).toMatch(/cursor loop: page 2 returned cursor "again" already visited/);
    expect(readCheckpoint(cat.sqlite, "official")?.cursor).toBeNull();
    expect(stats.markedRemoved).toBe(0);
  });

  it("a 10 MB description is capped in the server and in the stored raw entry", async () => {
    const items = seedItems().slice(0, 3);
    items[1]!.server = { ...items[1]!.server, description: "A".repeat(10 * 1024 * 1024) };
    const { cat, adapter } = await setup(items);
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ complete: true, entries: 3, skipped: 0, errors: 1 });
    expect(errorsOf(cat)[0]?.error).toMatch(/description of 10485760 characters capped to 65536/);
    const row = cat.sqlite
      .prepare(
        "SELECT length(s.description) AS d, length(src.raw) AS r FROM servers s JOIN sources src ON src.server_id = s.id WHERE s.name = ?",
      )
      .get(items[1]!.server.name) as { d: number; r: number };
    expect(row.d).toBeLessThanOrEqual(64 * 1024 + 20);
    expect(row.r).toBeLessThan(32 * 1024);
  });

  it("control characters in a name are removed (noted); markup in a name rejects the entry", async () => {
    const items = seedItems().slice(0, 3);
    items.push(wrapOfficial({ name: "io.github.ctl/\u0007bell\u202Egnp.exe\u0000", description: "x" }));
    items.push(wrapOfficial({ name: 'io.github.x/<img src=x onerror="alert(1)">', description: "x" }));
    const { cat, adapter } = await setup(items);
    const stats = await crawlSource(cat.sqlite, adapter, { http: quickHttp() });
    expect(stats).toMatchObject({ complete: true, entries: 4, skipped: 1, errors: 2 });
    const names = (cat.sqlite.prepare("SELECT name FROM servers").all() as { name: string }[]).map((r) => r.name);
    expect(names).toContain("io.github.ctl/bellgnp.exe");
    expect(names.some((n) => n.includes("<"))).toBe(false);
    const errs = errorsOf(cat).map((e) => e.error);
    expect(errs.some((e) => /control characters removed from name "io.github.ctl\/bellgnp.exe"/.test(e))).toBe(true);
    expect(errs.some((e) => /name contains markup/.test(e))).toBe(true);
  });

  it("honours 429 Retry-After before retrying", async () => {
    let n = 0;
    const { srv, cat, adapter } = await setup(seedItems().slice(0, 5), (_url, res) => {
      if (n++ > 0) return false;
      res.writeHead(429, { "retry-after": "1", "content-type": "application/json" });
      res.end('{"error":"slow down"}');
      return true;
    });
    const http = quickHttp();
    const t0 = Date.now();
    const stats = await crawlSource(cat.sqlite, adapter, { http });
    expect(stats).toMatchObject({ complete: true, entries: 5 });
    expect(http.stats.retries).toBe(1);
    expect(srv.requests).toHaveLength(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  });

  it("backs off on 5xx and succeeds; gives up with a counted network error when it never recovers", async () => {
    let n = 0;
    let forever = false;
    const { cat, adapter } = await setup(seedItems().slice(0, 5), (_url, res) => {
      if (!forever && n++ >= 2) return false;
      sendJson(res, { error: "upstream" }, 503);
      return true;
    });
    const http = quickHttp();
    const ok = await crawlSource(cat.sqlite, adapter, { http });
    expect(ok).toMatchObject({ complete: true, entries: 5 });
    expect(http.stats.retries).toBe(2);

    forever = true;
    const fail = await crawlSource(cat.sqlite, adapter, { http: new HttpClient({ baseDelayMs: 5, maxRetries: 2 }) });
    expect(fail).toMatchObject({ complete: false, stoppedBy: "error", errors: 1 });
    expect(fail.error).toMatchObject({ code: "network" });
    expect(fail.error?.message).toMatch(/HTTP 503 \(gave up after 3 attempts\)/);
  });

  it("retries a request that times out", async () => {
    let n = 0;
    const { cat, adapter } = await setup(seedItems().slice(0, 5), () => n++ === 0);
    const http = new HttpClient({ timeoutMs: 200, baseDelayMs: 5 });
    const stats = await crawlSource(cat.sqlite, adapter, { http });
    expect(stats).toMatchObject({ complete: true, entries: 5 });
    expect(http.stats.retries).toBe(1);
  });

  it("refuses a response larger than the cap", async () => {
    const { cat, adapter } = await setup(seedItems());
    const stats = await crawlSource(cat.sqlite, adapter, { http: new HttpClient({ maxBytes: 10_000 }) });
    expect(stats).toMatchObject({ stoppedBy: "error", errors: 1, entries: 0 });
    expect(stats.error?.message).toMatch(/response larger than 10000 bytes/);
  });
});
