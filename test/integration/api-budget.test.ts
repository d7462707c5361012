import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.js";
import { buildTestCatalog, type TestCatalog } from "./api-fixture.js";

let t: TestCatalog;
let server: ServerType;
let base: string;

beforeAll(async () => {
  t = buildTestCatalog();
  // A budget far below what reading the catalog takes: any query that has to look at more than a few dozen rows
  // runs past it, a query that reads one short page in index order does not.
  const app = createApp({ sqlite: t.catalog.sqlite, config: { queryBudgetMs: 0.001 } });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      base = `http://127.0.0.1:${info.port}`;
      resolve();
    });
  });
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  t.close();
});

describe("query time budget", () => {
  it("a query past its budget is stopped with a 503 problem that says so, and the server keeps answering", async () => {
    for (const path of ["/v1/tools?annotation=title&limit=200", "/v1/tools?q=file&limit=200&sort=name"]) {
      const res = await fetch(base + path);
      const body = await res.json();
      expect(res.status, path).toBe(503);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(body.code).toBe("query_timeout");
      expect(body.detail).toMatch(/budget/);
    }
    const small = await fetch(`${base}/v1/tools?limit=5`);
    expect(small.status).toBe(200);
    expect((await small.json()).items).toHaveLength(5);
    expect((await fetch(`${base}/v1/stats`)).status).toBe(200);
  });

  it("the MCP search tools stop the same way, as a tool error", async () => {
    const res = await fetch(`${base}/mcp`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "search_tools", arguments: { annotation: "title", limit: 50 } },
      }),
    });
    const body = await res.json();
    expect(body.result.isError).toBe(true);
    expect(body.result.content[0].text).toMatch(/budget/);
  });
});
