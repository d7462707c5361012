import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.js";
import { buildTestCatalog, relistWithDescription, type TestCatalog } from "./api-fixture.js";

let t: TestCatalog;
let server: ServerType;
let base: string;
const GH = "@modelcontextprotocol/server-github";
const ADDED = "Requires <b>admin</b> rights & a token.";

beforeAll(async () => {
  t = buildTestCatalog();
  const { sqlite } = t.catalog;
  // A third listing: create_repository's description grows again, and this time the change event is recorded.
  const changes = relistWithDescription(t.catalog, GH, "create_repository", ADDED, "2026-03-01T00:00:00.000Z");
  expect(changes.map((c) => c.toolName)).toEqual(["create_repository"]);
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: createApp({ sqlite }).fetch, port: 0, hostname: "127.0.0.1" }, (_: AddressInfo) =>
      resolve(s),
    );
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  t.close();
});

describe("tool detail history", () => {
  it("gives each version its readable diff and the tool its recorded changes", async () => {
    const res = await fetch(`${base}/v1/tools/modelcontextprotocol-server-github/create_repository`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.history).toHaveLength(3);
    expect(body.history[0].diff).toEqual([]);
    // each later version's diff names what was added to the description, as an added line
    expect(body.history[1].diff.some((l: string) => /^\s*\+.*\(now with templates\)/.test(l))).toBe(true);
    expect(body.history[2].diff.some((l: string) => /^\s*\+/.test(l) && l.includes(ADDED))).toBe(true);
    expect(body.history[2].current).toBe(true);
    expect(body.changes).toHaveLength(1);
    const c = body.changes[0];
    expect(c.tool).toBe("create_repository");
    expect(c.server.name).toBe(GH);
    // dates: the version's from the ingest, the event's from the probe that saw it
    expect(body.history[2].firstSeen).toBe("2026-03-01T00:00:00.000Z");
    expect(c.at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(c.fromHash).toBe(body.history[1].hash);
    expect(c.toHash).toBe(body.history[2].hash);
    expect(typeof c.reason).toBe("string");
    // the same event is in the changes feed
    const feed = await (await fetch(`${base}/v1/changes`)).json();
    expect(feed.items.map((x: { id: number }) => x.id)).toContain(c.id);
    // a tool without events gets an empty list, not a missing field
    const other = await (await fetch(`${base}/v1/tools/modelcontextprotocol-server-github/search_repositories`)).json();
    expect(other.changes).toEqual([]);
    expect(other.history.every((h: { diff: string[] }) => Array.isArray(h.diff))).toBe(true);
  });
});
