import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type ProbeOptions, parseTarget, probe } from "../../src/mcp/index.js";

const base: ProbeOptions = {
  cacheDir: join(tmpdir(), "mcp-census-test-cache"),
  timeoutMs: 10_000,
  installTimeoutMs: 10_000,
  allowInstallScripts: false,
  allowUnsandboxed: false,
  allowPrivateNetwork: true, // tests talk to loopback
  memoryLimitMb: 1024,
};

/** A small SDK server with two tools, a prompt and a resource. */
function makeServer(): McpServer {
  const s = new McpServer({ name: "remote-fixture", version: "1.2.3" }, { instructions: "remote instructions" });
  s.registerTool("add", { description: "Adds", inputSchema: { a: z.number(), b: z.number() } }, async () => ({
    content: [],
  }));
  s.registerTool("delete_all", { description: "Deletes", annotations: { destructiveHint: true } }, async () => ({
    content: [],
  }));
  s.registerPrompt("greet", { description: "Greets" }, () => ({ messages: [] }));
  s.registerResource("readme", "file:///readme", { description: "Readme" }, async () => ({ contents: [] }));
  return s;
}

const servers: Server[] = [];
let streamUrl = "";
let sseUrl = "";
let authUrl = "";
let hangUrl = "";
let calls: string[] = [];

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const srv = createServer(handler);
  servers.push(srv);
  return new Promise((r) =>
    srv.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(srv.address() as { port: number }).port}`)),
  );
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : undefined;
}

beforeAll(async () => {
  // Streamable HTTP with sessions, one transport per session as the SDK documents.
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  streamUrl = `${await listen(async (req, res) => {
    const body = req.method === "POST" ? await readJson(req) : undefined;
    for (const m of [body].flat()) if (m && typeof m === "object" && "method" in m) calls.push(String(m.method));
    const sid = req.headers["mcp-session-id"];
    let transport = typeof sid === "string" ? sessions.get(sid) : undefined;
    if (!transport) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, transport!);
        },
      });
      await makeServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  })}/mcp`;

  // SSE only: GET /sse opens the stream, POST /messages carries requests; anything else is 404.
  const sseSessions = new Map<string, SSEServerTransport>();
  sseUrl = `${await listen(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "GET" && url.pathname === "/sse") {
      const t = new SSEServerTransport("/messages", res);
      sseSessions.set(t.sessionId, t);
      await makeServer().connect(t);
      return;
    }
    if (req.method === "POST" && url.pathname === "/messages") {
      const t = sseSessions.get(url.searchParams.get("sessionId") ?? "");
      if (t) return t.handlePostMessage(req, res, await readJson(req));
    }
    res.writeHead(404).end("not found");
  })}/sse`;

  // Behind auth: 401 with RFC 9728 metadata, the MCP server itself never reached.
  let origin = "";
  origin = await listen((req, res) => {
    if (req.url === "/.well-known/oauth-protected-resource") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ resource: `${origin}/mcp`, authorization_servers: ["https://auth.example.com"] }));
      return;
    }
    res.writeHead(401, {
      "www-authenticate": `Bearer error="invalid_token", resource_metadata="${origin}/.well-known/oauth-protected-resource", scope="tools:read"`,
    });
    res.end();
  });
  authUrl = `${origin}/mcp`;

  hangUrl = `${await listen(() => {
    // never answers
  })}/mcp`;
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

describe("remote servers", () => {
  it("lists a loopback Streamable HTTP server and only ever lists", async () => {
    calls = [];
    const r = await probe(parseTarget(streamUrl), base);
    expect(r.outcome, r.error).toBe("ok");
    expect(r.transport).toBe("streamable-http");
    expect(r.serverInfo).toMatchObject({ name: "remote-fixture", version: "1.2.3" });
    expect(r.instructions).toBe("remote instructions");
    expect(r.tools.map((t) => t.name)).toEqual(["add", "delete_all"]);
    expect(r.tools[1]?.annotations).toEqual({ destructiveHint: true });
    expect(r.prompts.map((p) => p.name)).toEqual(["greet"]);
    expect(r.resources.map((x) => x.uri)).toEqual(["file:///readme"]);
    expect(calls).not.toContain("tools/call");
    expect(calls).toEqual(
      expect.arrayContaining([
        "initialize",
        "notifications/initialized",
        "tools/list",
        "prompts/list",
        "resources/list",
      ]),
    );
  });

  it("falls back to SSE when Streamable HTTP is not served", async () => {
    const r = await probe({ kind: "remote", remote: { type: "streamable-http", url: sseUrl } }, base);
    expect(r.outcome, r.error).toBe("ok");
    expect(r.transport).toBe("sse");
    expect(r.tools.map((t) => t.name)).toEqual(["add", "delete_all"]);
  });

  it("records auth_required with WWW-Authenticate and the protected-resource metadata", async () => {
    const r = await probe(parseTarget(authUrl), base);
    expect(r.outcome).toBe("auth_required");
    expect(r.auth?.status).toBe(401);
    expect(r.auth?.wwwAuthenticate).toMatch(/^Bearer error="invalid_token"/);
    expect(r.auth?.resourceMetadataUrl).toBe(authUrl.replace("/mcp", "/.well-known/oauth-protected-resource"));
    expect(r.auth?.resourceMetadata).toMatchObject({ authorization_servers: ["https://auth.example.com"] });
    expect(r.auth?.scope).toBe("tools:read");
    expect(r.tools).toEqual([]);
  });

  it("refuses loopback destinations unless private networks are allowed", async () => {
    const r = await probe(parseTarget(streamUrl), { ...base, allowPrivateNetwork: false });
    expect(r.outcome).toBe("unsupported_runtime");
    expect(r.error).toMatch(/destination refused: refused private address 127\.0\.0\.1/);
    const named = await probe(parseTarget(streamUrl.replace("127.0.0.1", "localhost")), {
      ...base,
      allowPrivateNetwork: false,
    });
    expect(named.error).toMatch(/destination refused/);
  });

  it("times out a remote that never answers", async () => {
    const r = await probe(parseTarget(hangUrl), { ...base, timeoutMs: 1500 });
    expect(r.outcome).toBe("timeout");
    expect(r.durationMs).toBeLessThan(5000);
  });

  it("calls a closed port crashed, with the reason", async () => {
    const r = await probe(parseTarget("http://127.0.0.1:1/mcp"), base);
    expect(r.outcome).toBe("crashed");
    expect(r.error).toMatch(/ECONNREFUSED|fetch failed/);
  });
});
