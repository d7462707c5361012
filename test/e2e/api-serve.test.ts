import type { ChildProcess } from "node:child_process";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startServe } from "../helpers/cli.js";
import { buildTestCatalog, type TestCatalog } from "../integration/api-fixture.js";

/*
 * The API and the MCP endpoint as users meet them: `mcp-census serve` in its own process on a real catalog file,
 * spoken to over real HTTP and with the MCP SDK's client (Streamable HTTP and stdio).
 */

let t: TestCatalog;
const procs: ChildProcess[] = [];

/** A raw HTTP exchange (no automatic decompression, any Host header), for what fetch hides. */
function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

let base: string;

beforeAll(async () => {
  t = buildTestCatalog();
  t.catalog.sqlite.pragma("wal_checkpoint(TRUNCATE)");
  base = await startServe(["--db", t.path], procs);
}, 60_000);

afterAll(() => {
  for (const p of procs) p.kill("SIGTERM");
  t.close();
});

const json = async (path: string, init?: RequestInit) => {
  const res = await fetch(base + path, init);
  const text = await res.text();
  return { res, body: text ? JSON.parse(text) : null, text };
};

describe("serve: HTTP conventions", () => {
  it("answers a wrong method on a known path with 405 + Allow, and OPTIONS with 204 + Allow", async () => {
    for (const path of ["/v1/tools", "/v1/servers/mcp-server-git", "/v1/stats"]) {
      const r = await json(path, { method: "POST", body: "{}" });
      expect(r.res.status, path).toBe(405);
      expect(r.res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(r.res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(r.body.status).toBe(405);
      const o = await fetch(base + path, { method: "OPTIONS" });
      expect(o.status).toBe(204);
      expect(o.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    }
    const g = await json("/mcp");
    expect(g.res.status).toBe(405);
    expect(g.res.headers.get("allow")).toBe("POST, OPTIONS");
    // An unknown path is still a 404, in the same problem shape.
    const nf = await json("/v1/nothing-here");
    expect(nf.res.status).toBe(404);
  });

  it("errors are RFC 9457 problem details that keep the earlier error fields", async () => {
    const r = await json("/v1/tools?limit=0x10");
    expect(r.res.status).toBe(400);
    expect(r.res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ type: "about:blank", title: "Bad Request", status: 400, parameter: "limit" });
    expect(r.body.detail).toMatch(/^limit: /);
    expect(r.body.error).toEqual({ status: 400, code: "bad_input", message: r.body.detail, parameter: "limit" });
    for (const bad of ["1e2", "20.0", "+20", "%2020", "0", "201"]) {
      const b = await json(`/v1/tools?limit=${bad}`);
      expect(b.res.status, bad).toBe(400);
      expect(b.body.parameter, bad).toBe("limit");
    }
    expect((await json("/v1/tools?limit=20")).res.status).toBe(200);
    const unknown = await json("/v1/tools?colour=red");
    expect(unknown.res.status).toBe(400);
    expect(unknown.body.detail).toBe("colour: unknown parameter");
  });

  it("compresses with br or gzip when asked, with Vary: Accept-Encoding, and the same bytes decoded", async () => {
    const url = `${base}/v1/tools?limit=200`;
    const plain = await raw(url);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(String(plain.headers.vary)).toContain("Accept-Encoding");
    for (const [coding, decode] of [
      ["br", brotliDecompressSync],
      ["gzip", gunzipSync],
    ] as const) {
      const r = await raw(url, { headers: { "Accept-Encoding": `${coding}` } });
      expect(r.headers["content-encoding"]).toBe(coding);
      expect(String(r.headers.vary)).toContain("Accept-Encoding");
      expect(decode(r.body).equals(plain.body)).toBe(true);
      expect(r.body.length).toBeLessThan(plain.body.length / 3);
      // The coded variant has its own validator, and a conditional request with it (or the plain one) is a 304.
      expect(r.headers.etag).not.toBe(plain.headers.etag);
      const again = await raw(url, {
        headers: { "Accept-Encoding": coding, "If-None-Match": String(r.headers.etag) },
      });
      expect(again.status).toBe(304);
    }
    // q=0 refuses a coding; an answer too small to gain is sent as it is.
    expect((await raw(url, { headers: { "Accept-Encoding": "br;q=0, gzip;q=0" } })).headers["content-encoding"]).toBe(
      undefined,
    );
    expect((await raw(`${base}/healthz`, { headers: { "Accept-Encoding": "br" } })).headers["content-encoding"]).toBe(
      undefined,
    );
  });

  it("If-None-Match takes weak tags, lists and * on JSON and on text policy formats", async () => {
    const paths = ["/v1/stats"];
    for (const f of ["claude-code", "gemini-policy", "cursor", "codex", "vscode", "intercept"]) {
      const r = await fetch(`${base}/v1/servers/mcp-server-git/policy?format=${f}`);
      await r.text();
      if ((r.headers.get("content-type") ?? "").startsWith("text/plain"))
        paths.push(`/v1/servers/mcp-server-git/policy?format=${f}`);
    }
    expect(paths.length).toBeGreaterThan(1);
    for (const p of paths) {
      const first = await fetch(base + p);
      await first.text();
      const etag = first.headers.get("etag") as string;
      expect(etag, p).toMatch(/^"/);
      for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, `"a", W/${etag}, "b"`, "*"]) {
        const r = await fetch(base + p, { headers: { "If-None-Match": inm } });
        expect(r.status, `${p} ${inm}`).toBe(304);
      }
      expect((await fetch(base + p, { headers: { "If-None-Match": '"other"' } })).status).toBe(200);
    }
  });

  it("search: empty q is no filter, OR, stems, and capped prefixes", async () => {
    const all = (await json("/v1/tools?limit=30")).body.items;
    expect((await json("/v1/tools?q=&limit=30")).body.items).toEqual(all);
    expect((await json("/v1/tools?q=%20%20&limit=30")).body.items).toEqual(all);
    // Stems: "delete issues" finds jira_delete_issue.
    const stems = (await json(`/v1/tools?q=${encodeURIComponent("delete issues")}&limit=50`)).body.items as {
      name: string;
    }[];
    expect(stems.map((i) => i.name)).toContain("jira_delete_issue");
    // OR: either alternative.
    const a = (await json("/v1/tools?q=snapshot&limit=200")).body.items.length;
    const b = (await json("/v1/tools?q=variable&limit=200")).body.items.length;
    const either = (await json(`/v1/tools?q=${encodeURIComponent("snapshot OR variable")}&limit=200`)).body.items
      .length;
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(either).toBeGreaterThanOrEqual(Math.max(a, b));
    expect(either).toBeLessThanOrEqual(a + b);
    // Prefixes: too short or too many is a 400 naming q.
    for (const q of ["a*", "fi*", "abc* def* ghi* jkl*"]) {
      const r = await json(`/v1/tools?q=${encodeURIComponent(q)}`);
      expect(r.res.status, q).toBe(400);
      expect(r.body.parameter).toBe("q");
    }
    expect((await json(`/v1/tools?q=${encodeURIComponent("fil* del* rea*")}`)).res.status).toBe(200);
  });

  it("finds a server by what users have: package with version, any case, a short name; a miss suggests", async () => {
    const want = (await json("/v1/servers/modelcontextprotocol-server-filesystem")).body.id;
    for (const ref of [
      "@modelcontextprotocol/server-filesystem@2025.1.14",
      "@ModelContextProtocol/Server-Filesystem",
      "npx -y @modelcontextprotocol/server-filesystem",
      "server-filesystem",
    ]) {
      const r = await json(`/v1/servers/${encodeURIComponent(ref)}`);
      expect(r.res.status, ref).toBe(200);
      expect(r.body.id, ref).toBe(want);
      const tool = await json(`/v1/tools/${encodeURIComponent(ref)}/read_file`);
      expect(tool.res.status, ref).toBe(200);
    }
    const miss = await json(`/v1/servers/${encodeURIComponent("server-filesystm")}`);
    expect(miss.res.status).toBe(404);
    expect(miss.body.suggestions.map((s: { id: number }) => s.id)).toContain(want);
    expect(miss.body.detail).toMatch(/did you mean .*server-filesystem/);
  });

  it("servers carry updatedAt, and updated_since keeps those updated at or after a time", async () => {
    const all = (await json("/v1/servers?limit=200")).body.items as { name: string; updatedAt: string }[];
    expect(all.length).toBeGreaterThan(10);
    for (const s of all) expect(Number.isNaN(Date.parse(s.updatedAt)), s.name).toBe(false);
    const times = all.map((s) => s.updatedAt).sort();
    const mid = times[Math.floor(times.length / 2)] as string;
    const since = (await json(`/v1/servers?limit=200&updated_since=${encodeURIComponent(mid)}`)).body.items as {
      updatedAt: string;
    }[];
    expect(since.length).toBe(times.filter((x) => x >= mid).length);
    // An offset is a time like any other: the same instant written in +02:00.
    const d = new Date(Date.parse(mid) + 2 * 3600_000).toISOString().replace("Z", "+02:00");
    expect((await json(`/v1/servers?limit=200&updated_since=${encodeURIComponent(d)}`)).body.items.length).toBe(
      since.length,
    );
    expect((await json("/v1/servers?updated_since=2999-01-01T00:00:00Z")).body.items).toEqual([]);
    const bad = await json("/v1/servers?updated_since=yesterday");
    expect(bad.res.status).toBe(400);
    expect(bad.body.parameter).toBe("updated_since");
    expect((await json("/v1/servers/mcp-server-git")).body.updatedAt).toBeTruthy();
  });

  it("stats answer from the stored figures", async () => {
    const r = await json("/v1/stats");
    expect(r.res.status).toBe(200);
    expect(r.body.tools).toBeGreaterThan(400);
  });
});

describe("serve: rate limits", () => {
  it("loopback clients are not limited by default; with limits on, the answer is 429 with RateLimit headers", async () => {
    const free = await fetch(`${base}/v1/stats`);
    expect(free.headers.get("ratelimit")).toBeNull();
    const limited = await startServe(["--db", t.path], procs, {
      MCP_CENSUS_API_RATE_LIMIT: "5",
      MCP_CENSUS_API_RATE_LIMIT_LOOPBACK: "true",
    });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) {
      last = await fetch(`${limited}/v1/stats`);
      await last.text();
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get("ratelimit-policy")).toBe('"default";q=5;w=60');
        expect(last.headers.get("ratelimit")).toMatch(/^"default";r=4;t=\d+$/);
      }
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses[5]).toBe(429);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get("ratelimit")).toMatch(/^"default";r=0;t=\d+$/);
    expect(last!.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    // Health checks are never limited.
    expect((await fetch(`${limited}/healthz`)).status).toBe(200);
  }, 60_000);
});

type Tool = {
  name: string;
  description?: string;
  inputSchema: { properties?: Record<string, { description?: string }> };
  outputSchema?: unknown;
};

/** What both transports must show about the tool definitions and answers. */
async function checkDefinitions(client: Client): Promise<void> {
  const caps = client.getServerCapabilities();
  expect(caps?.tools?.listChanged).not.toBe(true);
  const { tools } = (await client.listTools()) as { tools: Tool[] };
  expect(tools.length).toBe(5);
  for (const tool of tools) {
    expect(tool.outputSchema, tool.name).toBeDefined();
    expect(tool.description, tool.name).toContain("untrusted data");
    for (const [p, s] of Object.entries(tool.inputSchema.properties ?? {})) {
      expect(s.description, `${tool.name}.${p}`).toBeTruthy();
    }
    expect((tool.inputSchema as { additionalProperties?: unknown }).additionalProperties, tool.name).toBe(false);
  }
  const policy = tools.find((x) => x.name === "get_policy") as Tool;
  for (const f of ["decision", "policy.json", "claude-code", "gemini-policy"]) expect(policy.description).toContain(f);

  const r = await client.callTool({ name: "search_tools", arguments: { q: "delete issues", category: "Destructive" } });
  const text = (r.content as { text: string }[])[0]!.text;
  expect(text).not.toContain("\n");
  expect(JSON.parse(text)).toEqual(r.structuredContent);
  // The same filters as REST, the same items.
  const rest = await json(`/v1/tools?q=${encodeURIComponent("delete issues")}&category=Destructive&limit=20`);
  expect((r.structuredContent as { items: unknown[] }).items).toEqual(rest.body.items);
  // Unknown arguments are refused the same way.
  const bad = await client.callTool({ name: "search_tools", arguments: { q: "x", colour: "red" } });
  expect(bad.isError).toBe(true);
  expect((bad.content as { text: string }[])[0]!.text).toContain("colour: unknown parameter");
  // Servers by what users have; check_tool for what is not there.
  const byPkg = await client.callTool({
    name: "check_tool",
    arguments: { server: "@modelcontextprotocol/server-filesystem@1.0.0", tool: "write_file" },
  });
  expect((byPkg.structuredContent as { inCatalog: boolean }).inCatalog).toBe(true);
  const unknown = await client.callTool({ name: "check_tool", arguments: { server: "server-filesystm", tool: "x" } });
  expect(unknown.isError).toBeFalsy();
  const u = unknown.structuredContent as { recommendedRule: { action: string }; suggestions?: { name: string }[] };
  expect(u.recommendedRule.action).toBe("deny");
  expect(u.suggestions?.map((s) => s.name)).toContain("@modelcontextprotocol/server-filesystem");
  const miss = await client.callTool({ name: "get_server", arguments: { server: "server-filesystm" } });
  expect(miss.isError).toBe(true);
  expect((miss.content as { text: string }[])[0]!.text).toMatch(/did you mean/);
}

describe("serve: MCP", () => {
  it("over Streamable HTTP with the SDK client", async () => {
    const client = new Client({ name: "e2e", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    try {
      await checkDefinitions(client);
    } finally {
      await client.close();
    }
  }, 60_000);

  it("over stdio (`mcp-census mcp`) with the SDK client", async () => {
    const client = new Client({ name: "e2e", version: "1" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [join(ROOT, "bin", "mcp-census.js"), "--db", t.path, "mcp"],
        env: { ...(process.env as Record<string, string>), MCP_CENSUS_LOG_LEVEL: "warn" },
        stderr: "pipe",
      }),
    );
    try {
      await checkDefinitions(client);
    } finally {
      await client.close();
    }
  }, 60_000);

  it("one server behind every request: concurrent clients using the same request id each get their own answer", async () => {
    const tools = ["read_file", "write_file", "list_directory", "move_file", "search_files", "get_file_info"];
    const answers = await Promise.all(
      tools.map((tool) =>
        fetch(`${base}/mcp`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "tools/call",
            params: { name: "check_tool", arguments: { server: "server-filesystem", tool } },
          }),
        }).then((r) => r.json()),
      ),
    );
    expect(answers.map((a) => a.id)).toEqual(tools.map(() => 1));
    expect(answers.map((a) => a.result.structuredContent.tool)).toEqual(tools);
  });

  it("a tools/call answers the same on the direct path as through the SDK's own request handling", async () => {
    // `_meta` in params sends a call through the SDK's transport and server; without it, the common call takes the
    // direct path. Every answer, found or not, valid or refused, must be the same both ways.
    const calls: [string, Record<string, unknown>][] = [
      ["check_tool", { server: "server-filesystem", tool: "write_file" }],
      ["check_tool", { server: "server-filesystem", tool: "no_such_tool", profile: "strict" }],
      ["check_tool", { server: "no-such-server", tool: "x" }],
      ["check_tool", { server: "server-filesystem" }],
      ["check_tool", { server: "server-filesystem", tool: "read_file", colour: "red" }],
      ["search_tools", { q: "delete file", limit: 3 }],
      ["search_tools", { q: "delete", category: "Destructive" }],
      ["search_tools", { q: "x", limit: 0 }],
      ["search_tools", { q: "delete", server: "no-such-server" }],
      ["search_tools", { q: "zzzznothing" }],
      ["search_servers", { q: "git" }],
      ["get_server", { server: "mcp-server-git" }],
      ["get_server", { server: "server-filesystm" }],
      ["get_server", { server: "@modelcontextprotocol/server-filesystem" }],
      ["get_policy", { server: "mcp-server-git", format: "claude-code" }],
      ["no_such_tool", {}],
    ];
    const post = async (params: Record<string, unknown>, id: number | string) => {
      const r = await fetch(`${base}/mcp`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params }),
      });
      return { status: r.status, type: r.headers.get("content-type"), body: await r.json() };
    };
    for (const [i, [name, args]] of calls.entries()) {
      const direct = await post({ name, arguments: args }, `d${i}`);
      const sdk = await post({ name, arguments: args, _meta: {} }, `d${i}`);
      expect(direct, `${name} ${JSON.stringify(args)}`).toEqual(sdk);
      expect(direct.status).toBe(200);
    }
  });

  it("a body that is not JSON is the SDK's JSON-RPC parse error; an oversized one is refused", async () => {
    const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
    const bad = await fetch(`${base}/mcp`, { method: "POST", headers, body: "{not json" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe(-32700);
    const big = await fetch(`${base}/mcp`, { method: "POST", headers, body: `"${"x".repeat(1_100_000)}"` });
    expect(big.status).toBe(413);
    // The unread rest of the body leaves the connection unusable: it is closed, and the client's next requests (on
    // a new connection) are answered instead of reset.
    expect(big.headers.get("connection")).toBe("close");
    await big.text();
    for (let i = 0; i < 3; i++) {
      const next = await fetch(`${base}/mcp`, {
        method: "POST",
        headers,
        body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "ping" }),
      });
      expect(next.status).toBe(200);
    }
  });

  it("refuses a foreign Origin and, on a loopback bind, a foreign Host (DNS rebinding)", async () => {
    const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
    const port = new URL(base).port;
    // A ping goes through the SDK's transport, a tools/call takes the direct path: both check Origin and Host.
    const ping = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
    const call = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "check_tool", arguments: { server: "server-filesystem", tool: "read_file" } },
    });
    for (const init of [ping, call]) {
      const okOrigin = await raw(`${base}/mcp`, {
        method: "POST",
        body: init,
        headers: { ...headers, Origin: `http://localhost:${port}` },
      });
      expect(okOrigin.status).toBe(200);
      const noOrigin = await raw(`${base}/mcp`, { method: "POST", body: init, headers });
      expect(noOrigin.status).toBe(200);
      const evil = await raw(`${base}/mcp`, {
        method: "POST",
        body: init,
        headers: { ...headers, Origin: "http://evil.example" },
      });
      expect(evil.status).toBe(403);
      const rebound = await raw(`${base}/mcp`, {
        method: "POST",
        body: init,
        headers: { ...headers, Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` },
      });
      expect(rebound.status).toBe(403);
      const reboundNoOrigin = await raw(`${base}/mcp`, {
        method: "POST",
        body: init,
        headers: { ...headers, Host: `evil.example:${port}` },
      });
      expect(reboundNoOrigin.status).toBe(403);
    }
  });
});
