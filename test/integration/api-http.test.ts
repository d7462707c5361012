import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.js";
import { buildTestCatalog, type TestCatalog } from "./api-fixture.js";

let t: TestCatalog;
let server: ServerType;
let base: string;
let restricted: ServerType;
let restrictedBase: string;

function listen(app: ReturnType<typeof createApp>): Promise<{ server: ServerType; base: string }> {
  return new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve({ server: s, base: `http://127.0.0.1:${info.port}` }),
    );
  });
}

beforeAll(async () => {
  t = buildTestCatalog();
  ({ server, base } = await listen(createApp({ sqlite: t.catalog.sqlite })));
  ({ server: restricted, base: restrictedBase } = await listen(
    createApp({ sqlite: t.catalog.sqlite, config: { corsOrigins: ["https://allowed.example"] } }),
  ));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => restricted.close(r));
  t.close();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, { headers });
  const text = await res.text();
  return { res, text, body: text ? JSON.parse(text) : null };
}

type Item = { server: { id: number; name: string }; name: string; [k: string]: unknown };

/** Walks every page of a list, returning all items in order. */
async function walk<T = Item>(path: string): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const { res, body } = await get(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    expect(res.status, path).toBe(200);
    items.push(...body.items);
    cursor = body.nextCursor;
    pages++;
    expect(pages).toBeLessThan(1000);
  } while (cursor);
  return { items, pages };
}

const toolKey = (i: Item) => `${i.server.id}\u0000${i.name}`;

describe("paging", () => {
  it("walks every tool exactly once in each sort order", async () => {
    const stats = (await get("/v1/stats")).body;
    for (const sort of ["server", "name", "risk"]) {
      const { items, pages } = await walk(`/v1/tools?limit=37&sort=${sort}`);
      expect(pages).toBeGreaterThan(5);
      const keys = items.map(toolKey);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.length).toBe(stats.tools);
    }
  });

  it("pages of a search equal the single large page, in the same order", async () => {
    const whole = (await get("/v1/tools?q=file&limit=200")).body.items as Item[];
    expect(whole.length).toBeGreaterThan(5);
    const { items } = await walk("/v1/tools?q=file&limit=4");
    expect(items.map(toolKey)).toEqual(whole.map(toolKey));
    // Relevance tiers: tools named for the word (or a word of its stem: files, filing) come first,
    // description-only matches after, none lost or repeated.
    const named = whole.map((i) =>
      `${i.name} ${i.title ?? ""}`
        .toLowerCase()
        .split(/[^\p{L}\p{N}]+/u)
        .some((w) => ["file", "files", "filed", "filing"].includes(w)),
    );
    expect(named[0]).toBe(true);
    expect(named.includes(false)).toBe(true);
    expect(named.slice(named.indexOf(false)).includes(true)).toBe(false);
    const byName = await walk("/v1/tools?q=file&limit=4&sort=name");
    expect(byName.items.map(toolKey).sort()).toEqual(whole.map(toolKey).sort());
  });

  it("walks every server exactly once", async () => {
    const { items } = await walk<{ name: string }>("/v1/servers?limit=3");
    const names = items.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual([...t.servers.keys()].sort());
  });

  it("pages the changes feed newest first", async () => {
    const ins = t.catalog.sqlite.prepare(
      `INSERT INTO changes (server_id, at, tool_name, kind, severity, reason, details, dedupe_key)
       VALUES (1, ?, ?, 'tool_added', 'low', 'test row', '{}', ?)`,
    );
    for (let i = 0; i < 5; i++) ins.run(`2026-03-0${i + 1}T00:00:00Z`, `tool_${i}`, `test-${i}`);
    const { items, pages } = await walk<{ id: number }>("/v1/changes?limit=2");
    expect(pages).toBe(3);
    const ids = items.map((c) => c.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(ids.length).toBe(5);
    expect((await get("/v1/changes?severity=high")).body.items).toEqual([]);
  });
});

describe("tool filters", () => {
  it("category and risk return exactly the matching tools", async () => {
    const stats = (await get("/v1/stats")).body;
    for (const [cat, n] of Object.entries(stats.byCategory as Record<string, number>)) {
      const { items } = await walk(`/v1/tools?category=${cat}&limit=200`);
      expect(items.length, cat).toBe(n);
      expect(items.every((i) => i.category === cat)).toBe(true);
    }
    for (const [risk, n] of Object.entries(stats.byRisk as Record<string, number>)) {
      const { items } = await walk(`/v1/tools?risk=${risk}&limit=200`);
      expect(items.length, risk).toBe(n);
      expect(items.every((i) => i.risk === risk)).toBe(true);
    }
  });

  it("server restricts to one server, by slug or by name", async () => {
    const name = "@modelcontextprotocol/server-filesystem";
    const bySlug = await walk("/v1/tools?server=modelcontextprotocol-server-filesystem");
    const byName = await walk(`/v1/tools?server=${encodeURIComponent(name)}`);
    expect(bySlug.items.map((i) => i.name).sort()).toEqual([...(t.servers.get(name) ?? [])].sort());
    expect(byName.items.map(toolKey)).toEqual(bySlug.items.map(toolKey));
  });

  it("annotation filters by the hint present", async () => {
    const ro = await walk("/v1/tools?annotation=readOnlyHint&limit=200");
    expect(ro.items.length).toBeGreaterThan(0);
    expect(ro.items.every((i) => (i.annotations as Record<string, unknown>)?.readOnlyHint !== undefined)).toBe(true);
    const none = await walk("/v1/tools?annotation=none&limit=200");
    const any = await walk("/v1/tools?annotation=any&limit=200");
    expect(none.items.every((i) => !i.annotations || Object.keys(i.annotations).length === 0)).toBe(true);
    const stats = (await get("/v1/stats")).body;
    expect(none.items.length + any.items.length).toBe(stats.tools);
  });

  it("flag finds poisoned and contradicting definitions", async () => {
    const poison = (await get("/v1/tools?flag=poisoning")).body.items as Item[];
    expect(poison.map((i) => i.name)).toContain("add_numbers");
    expect(poison.every((i) => (i.flags as string[]).some((f) => f.startsWith("poisoning")))).toBe(true);
    const contra = (await get("/v1/tools?flag=annotation_contradiction")).body.items as Item[];
    expect(contra.map((i) => i.name)).toContain("wipe_cache");
  });

  it("q finds tools by words of their name and description", async () => {
    const items = (await get("/v1/tools?q=delete&limit=200")).body.items as Item[];
    expect(items.length).toBeGreaterThan(3);
    for (const i of items) expect(`${i.name} ${i.description}`.toLowerCase()).toContain("delet");
    const combined = (await get("/v1/tools?q=delete&category=Destructive&limit=200")).body.items as Item[];
    expect(combined.length).toBeGreaterThan(0);
    expect(combined.every((i) => i.category === "Destructive")).toBe(true);
  });

  it("hostile FTS syntax never errors and never touches the schema", async () => {
    for (const q of [
      '"',
      "NEAR(",
      "*",
      "a OR b",
      "name:delete",
      "^",
      ")(",
      "'; DROP TABLE tools; --",
      "-",
      "\u0000",
      "ÿ😀",
    ]) {
      const { res, body } = await get(`/v1/tools?q=${encodeURIComponent(q)}`);
      expect(res.status, q).toBe(200);
      expect(Array.isArray(body.items)).toBe(true);
      expect((await get(`/v1/servers?q=${encodeURIComponent(q)}`)).res.status, q).toBe(200);
    }
    expect((await get("/v1/stats")).body.tools).toBeGreaterThan(400);
  });
});

describe("server filters and detail", () => {
  const names = async (q: string) => (await walk<{ name: string }>(`/v1/servers?${q}`)).items.map((s) => s.name);

  it("each filter selects the servers that match it", async () => {
    expect(await names("source=smithery")).toEqual(["test/hostile-calculator"]);
    expect(await names("transport=streamable-http")).toEqual(["test/hostile-calculator"]);
    expect(await names("runtime=remote")).toEqual(["test/hostile-calculator"]);
    const pypi = [...t.servers.keys()].filter((n) => n.startsWith("mcp-server-")).sort();
    expect((await names("runtime=pypi")).sort()).toEqual(pypi);
    expect((await names("runtime=UVX")).sort()).toEqual(pypi);
    expect(await names("outcome=timeout")).toEqual(["test/slow-server"]);
    expect(await names("outcome=unprobed")).toEqual([]);
    expect(await names("category=Financial")).toContain("paypal/agent-toolkit");
    const critical = await names("risk=critical");
    expect(critical.length).toBeGreaterThan(0);
    expect(critical).not.toContain("test/slow-server");
    expect(await names("q=github")).toContain("@modelcontextprotocol/server-github");
  });

  it("detail has probe status, counts, token cost and sources", async () => {
    const { body } = await get("/v1/servers/modelcontextprotocol-server-github");
    expect(body.name).toBe("@modelcontextprotocol/server-github");
    expect(body.probe.outcome).toBe("ok");
    const total = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    expect(total(body.byCategory)).toBe(body.toolCount);
    expect(total(body.byRisk)).toBe(body.toolCount);
    const raws = (
      t.catalog.sqlite
        .prepare("SELECT raw FROM tools WHERE server_id = ? AND removed_at IS NULL ORDER BY name")
        .all(body.id) as { raw: string }[]
    ).map((r) => JSON.parse(r.raw));
    expect(body.tokenCost).toBe(Math.ceil(JSON.stringify(raws).length / 4));
    expect(body.sources.map((s: { sourceId: string }) => s.sourceId)).toEqual(["seed"]);
    const slow = (await get("/v1/servers/test-slow-server")).body;
    expect(slow.probe.outcome).toBe("timeout");
    expect(slow.toolCount).toBe(0);
    // By numeric id too.
    expect((await get(`/v1/servers/${body.id}`)).body.name).toBe(body.name);
  });

  it("tool detail has the definition, classification with signals, and history", async () => {
    const { body } = await get("/v1/tools/modelcontextprotocol-server-github/create_repository");
    expect(body.definition.name).toBe("create_repository");
    expect(body.classification.signals.length).toBeGreaterThan(0);
    expect(body.history).toHaveLength(2);
    expect(body.history.filter((h: { current: boolean }) => h.current)).toHaveLength(1);
    expect(body.history[1].current).toBe(true);
    const bySlug = (await get("/v1/tools/modelcontextprotocol-server-github/create-repository")).body;
    expect(bySlug.hash).toBe(body.hash);
  });
});

describe("errors", () => {
  it("answers 400 naming the bad parameter", async () => {
    const cases: [string, string][] = [
      ["/v1/tools?limit=0", "limit"],
      ["/v1/tools?limit=abc", "limit"],
      ["/v1/tools?limit=201", "limit"],
      ["/v1/tools?category=Bogus", "category"],
      ["/v1/tools?risk=extreme", "risk"],
      ["/v1/tools?flag=evil", "flag"],
      ["/v1/tools?annotation=x", "annotation"],
      ["/v1/tools?sort=random", "sort"],
      ["/v1/tools?sort=relevance", "sort"],
      ["/v1/tools?bogus=1", "bogus"],
      ["/v1/tools?cursor=garbage", "cursor"],
      [`/v1/tools?q=${"a".repeat(201)}`, "q"],
      ["/v1/tools?limit=5&limit=6", "limit"],
      ["/v1/servers?outcome=maybe", "outcome"],
      ["/v1/servers?transport=pigeon", "transport"],
      ["/v1/servers/1?x=1", "x"],
      [`/v1/servers/${"s".repeat(301)}`, "server"],
      ["/v1/servers/1/policy?format=pdf", "format"],
      ["/v1/servers/1/policy?profile=reckless", "profile"],
      ["/v1/servers/1/policy?as=my%20server", "as"],
    ];
    for (const [path, param] of cases) {
      const { res, body } = await get(path);
      expect(res.status, path).toBe(400);
      expect(body.error.parameter, path).toBe(param);
      expect(body.error.message.startsWith(`${param}:`), path).toBe(true);
    }
    // A cursor issued for one order is refused for another.
    const c = (await get("/v1/tools?limit=1&sort=name")).body.nextCursor;
    const { res, body } = await get(`/v1/tools?limit=1&sort=risk&cursor=${c}`);
    expect(res.status).toBe(400);
    expect(body.error.parameter).toBe("cursor");
  });

  it("answers 404 saying what was not found", async () => {
    const a = await get("/v1/servers/no-such-server");
    expect(a.res.status).toBe(404);
    expect(a.body.error.message).toContain("no-such-server");
    const b = await get("/v1/tools/modelcontextprotocol-server-github/no_such_tool");
    expect(b.res.status).toBe(404);
    expect(b.body.error.message).toContain("no_such_tool");
    expect(b.body.error.message).toContain("@modelcontextprotocol/server-github");
    const c = await get("/v1/tools?server=ghost");
    expect(c.res.status).toBe(404);
    expect(c.body.error.message).toContain("ghost");
    const d = await get("/v1/nothing-here");
    expect(d.res.status).toBe(404);
    expect(d.body.error.message).toContain("/v1/nothing-here");
  });
});

describe("HTTP behaviour", () => {
  it("ETag + If-None-Match gives 304, and a catalog change gives a new ETag", async () => {
    const path = "/v1/servers/test-hostile-calculator";
    const a = await get(path);
    const etag = a.res.headers.get("etag");
    expect(etag).toMatch(/^".+"$/);
    const b = await get(path, { "If-None-Match": etag! });
    expect(b.res.status).toBe(304);
    expect(b.text).toBe("");
    expect((await get(path, { "If-None-Match": `W/${etag}` })).res.status).toBe(304);
    expect((await get(path, { "If-None-Match": '"other"' })).res.status).toBe(200);
    t.catalog.sqlite.prepare("UPDATE servers SET description = 'changed' WHERE slug = 'test-hostile-calculator'").run();
    const c = await get(path, { "If-None-Match": etag! });
    expect(c.res.status).toBe(200);
    expect(c.res.headers.get("etag")).not.toBe(etag);
  });

  it("sends CORS headers as configured", async () => {
    const open = await fetch(`${base}/v1/stats`, { headers: { Origin: "https://anywhere.example" } });
    expect(open.headers.get("access-control-allow-origin")).toBe("*");
    const ok = await fetch(`${restrictedBase}/v1/stats`, { headers: { Origin: "https://allowed.example" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://allowed.example");
    expect(ok.headers.get("access-control-expose-headers")).toContain("ETag");
    const no = await fetch(`${restrictedBase}/v1/stats`, { headers: { Origin: "https://evil.example" } });
    expect(no.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await fetch(`${restrictedBase}/v1/tools`, {
      method: "OPTIONS",
      headers: { Origin: "https://allowed.example", "Access-Control-Request-Method": "GET" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-methods")).toContain("GET");
  });

  it("puts CORS headers on every /v1 and /mcp answer (errors, 404, 405, OPTIONS, HEAD), not on health checks", async () => {
    const origin = { Origin: "https://allowed.example" };
    const answers = [
      await fetch(`${restrictedBase}/v1/tools/no-such-server/x`, { headers: origin }), // 404 from the handler
      await fetch(`${restrictedBase}/v1/no-such-endpoint`, { headers: origin }), // 404 of no route
      await fetch(`${restrictedBase}/v1/tools?limit=0x10`, { headers: origin }), // 400
      await fetch(`${restrictedBase}/v1/tools`, { method: "POST", headers: origin }), // 405
      await fetch(`${restrictedBase}/v1/tools`, { method: "OPTIONS", headers: origin }), // 204 + Allow
      await fetch(`${restrictedBase}/v1/stats`, { method: "HEAD", headers: origin }),
      await fetch(`${restrictedBase}/v1/docs`, { headers: origin }), // built by hono (c.html)
      await fetch(`${restrictedBase}/mcp`, { method: "GET", headers: origin }), // 405 on /mcp
    ];
    expect(answers.map((r) => r.status)).toEqual([404, 404, 400, 405, 204, 200, 200, 405]);
    for (const r of answers) {
      expect(r.headers.get("access-control-allow-origin"), r.url).toBe("https://allowed.example");
      expect(r.headers.get("vary"), r.url).toContain("Origin");
    }
    expect(answers[3]!.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(answers[4]!.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(answers[7]!.headers.get("allow")).toBe("POST, OPTIONS");
    const health = await fetch(`${restrictedBase}/healthz`, { headers: origin });
    expect(health.status).toBe(200);
    expect(health.headers.get("access-control-allow-origin")).toBeNull();
    const healthPost = await fetch(`${restrictedBase}/healthz`, { method: "POST", headers: origin });
    expect(healthPost.status).toBe(405);
    expect(healthPost.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("serves the policy in each format from the policy engine", async () => {
    const json = await get("/v1/servers/modelcontextprotocol-server-github/policy");
    expect(json.res.status).toBe(200);
    const decision = (await get("/v1/servers/modelcontextprotocol-server-github/policy?format=decision&profile=strict"))
      .body;
    expect(decision.profile).toBe("strict");
    expect(decision.tools.length).toBe(t.servers.get("@modelcontextprotocol/server-github")?.length);
    const cc = await get("/v1/servers/modelcontextprotocol-server-github/policy?format=claude-code");
    expect(cc.res.status).toBe(200);
    expect(cc.text).toContain("mcp__");
    // Under the user's name for the server (as, like the CLI's --as): every format uses it.
    const asGh = await get("/v1/servers/modelcontextprotocol-server-github/policy?format=claude-code&as=gh");
    const perms = asGh.body.permissions as Record<string, string[]>;
    const names = [...perms.allow!, ...perms.ask!, ...perms.deny!];
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => n.startsWith("mcp__gh__"))).toBe(true);
    const codex = await fetch(`${base}/v1/servers/modelcontextprotocol-server-github/policy?format=codex&as=gh`);
    expect(await codex.text()).toMatch(/^\[mcp_servers\.gh\]$/m);
    // Tools never listed (the probe timed out): the whole server is denied and the policy says why.
    const unlisted = await get("/v1/servers/test-slow-server/policy");
    expect(unlisted.res.status).toBe(200);
    expect(JSON.stringify(unlisted.body)).toMatch(/could not be listed \(the last probe \(.+\) ended timeout/);
    const d = (await get("/v1/servers/test-slow-server/policy?format=decision")).body;
    expect(d.tools).toEqual([]);
    expect(d.unlisted).toMatch(/ended timeout: test probe: timeout$/);
  });

  it("health, readiness, stats, OpenAPI and docs answer", async () => {
    expect((await get("/healthz")).body.status).toBe("ok");
    const ready = await get("/readyz");
    expect(ready.res.status).toBe(200);
    expect(ready.body.status).toBe("ready");
    const doc = (await get("/v1/openapi.json")).body;
    expect(doc.openapi).toBe("3.1.0");
    const html = await fetch(`${base}/v1/docs`);
    expect(html.headers.get("content-type")).toContain("text/html");
    const page = await html.text();
    for (const p of Object.keys(doc.paths)) expect(page).toContain(`<code>GET ${p}</code>`);
    expect(page).not.toMatch(/<script|https?:\/\/(?!127)/i);
  });
});
