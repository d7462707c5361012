import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyProbeResult, type ProbeResult, type RawTool } from "../../src/core/types.js";
import {
  deliverWebhooks,
  loadWebhookConfig,
  recordChanges,
  signBody,
  verifySignature,
  type WebhookConfig,
} from "../../src/history/index.js";
import { ingestProbe, upsertSourceEntry } from "../../src/store/catalog.js";
import { type Catalog, openCatalog } from "../../src/store/db.js";

const SECRET = "unit-test-secret-0123456789";
const dirs: string[] = [];

function listing(tools: RawTool[], startedAt: string): ProbeResult {
  return { ...emptyProbeResult("ok", "stdio"), startedAt, durationMs: 1, tools };
}

const readTool: RawTool = {
  name: "get_page",
  description: "Fetch a wiki page by title.",
  inputSchema: { type: "object", properties: { title: { type: "string" } } },
  annotations: { readOnlyHint: true },
};

/** A catalog with one high change (readOnlyHint flip) and one medium change (new tool) recorded at `at`. */
function catalogWithChanges(at: string): Catalog {
  const dir = mkdtempSync(join(tmpdir(), "mcp-census-hooks-"));
  dirs.push(dir);
  const cat = openCatalog(join(dir, "catalog.db"));
  const sid = upsertSourceEntry(cat.sqlite, {
    sourceId: "seed",
    sourceKey: "wiki",
    entry: { name: "io.github.example/wiki", packages: [], remotes: [] },
    raw: {},
  }).serverId;
  recordChanges(cat.sqlite, sid, ingestProbe(cat.sqlite, sid, listing([readTool], at), at));
  const next = [
    { ...readTool, annotations: { readOnlyHint: false } },
    { name: "get_history", description: "List a page's revisions.", inputSchema: { type: "object" } },
  ];
  const events = recordChanges(cat.sqlite, sid, ingestProbe(cat.sqlite, sid, listing(next, at), at));
  expect(events.map((e) => e.severity).sort()).toEqual(["high", "medium"]);
  return cat;
}

let server: Server;
let url: string;
let statuses: number[] = [];
let hits: { id: string; body: string; sig: string; ts: string }[] = [];

beforeEach(async () => {
  hits = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      hits.push({
        id: String(req.headers["x-mcp-census-id"]),
        body,
        sig: String(req.headers["x-mcp-census-signature"]),
        ts: String(req.headers["x-mcp-census-timestamp"]),
      });
      res.writeHead(statuses.shift() ?? 200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterEach(async () => {
  statuses = [];
  await new Promise<void>((r) => server.close(() => r()));
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const config = (over: Partial<WebhookConfig> = {}): WebhookConfig => ({
  urls: [url],
  secret: SECRET,
  minSeverity: "high",
  maxAttempts: 3,
  backoffMs: 10,
  timeoutMs: 2000,
  maxAgeHours: 72,
  ...over,
});

describe("webhook config", () => {
  it("is empty without file or environment, and reads both (env wins)", () => {
    expect(loadWebhookConfig(undefined, {}).urls).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), "mcp-census-hookcfg-"));
    dirs.push(dir);
    const file = join(dir, "hooks.json");
    writeFileSync(file, JSON.stringify({ urls: ["https://a.example/h"], secret: SECRET, minSeverity: "medium" }));
    expect(loadWebhookConfig(file, {})).toMatchObject({ urls: ["https://a.example/h"], minSeverity: "medium" });
    const c = loadWebhookConfig(file, {
      MCP_CENSUS_WEBHOOK_URLS: "https://b.example/1, https://c.example/2",
      MCP_CENSUS_WEBHOOK_MIN_SEVERITY: "low",
    });
    expect(c.urls).toEqual(["https://b.example/1", "https://c.example/2"]);
    expect(c.minSeverity).toBe("low");
  });

  it("rejects bad settings with one clear line", () => {
    expect(() => loadWebhookConfig(undefined, { MCP_CENSUS_WEBHOOK_URLS: "https://a.example/h" })).toThrow(
      /needs? a secret/,
    );
    expect(() =>
      loadWebhookConfig(undefined, { MCP_CENSUS_WEBHOOK_URLS: "ftp://a.example/h", MCP_CENSUS_WEBHOOK_SECRET: SECRET }),
    ).toThrow(/invalid webhook setting urls/);
    expect(() => loadWebhookConfig(undefined, { MCP_CENSUS_WEBHOOK_MIN_SEVERITY: "urgent" })).toThrow(/minSeverity/);
    expect(() => loadWebhookConfig("/nonexistent/hooks.json", {})).toThrow(/cannot read webhook config/);
  });

  it("signatures verify only for the exact body and secret", () => {
    const sig = signBody(SECRET, '{"a":1}');
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, '{"a":1}', sig)).toBe(true);
    expect(verifySignature(SECRET, '{"a":2}', sig)).toBe(false);
    expect(verifySignature("another-secret-0123456", '{"a":1}', sig)).toBe(false);
    expect(verifySignature(SECRET, '{"a":1}', undefined)).toBe(false);
  });
});

describe("deliverWebhooks", () => {
  it("sends changes at or above the minimum severity, signed, with id and timestamp headers", async () => {
    const cat = catalogWithChanges(new Date().toISOString());
    expect(await deliverWebhooks(cat.sqlite, config({ minSeverity: "medium" }))).toEqual({
      delivered: 2,
      failed: 0,
      pending: 0,
    });
    expect(hits).toHaveLength(2);
    for (const h of hits) {
      expect(verifySignature(SECRET, h.body, h.sig)).toBe(true);
      expect(h.id).toMatch(/^change-\d+$/);
      expect(Number(h.ts)).toBeGreaterThan(1_600_000_000);
      expect(JSON.parse(h.body).id).toBe(h.id);
    }
    cat.close();
  });

  it("retries with backoff and records the failure after the last attempt", async () => {
    const cat = catalogWithChanges(new Date().toISOString());
    statuses = [500, 500, 500];
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    expect(await deliverWebhooks(cat.sqlite, config(), { sleep })).toEqual({ delivered: 0, failed: 1, pending: 0 });
    expect(hits).toHaveLength(3);
    expect(waits).toEqual([10, 20]);
    const row = cat.sqlite.prepare("SELECT status, attempts, last_error FROM webhook_deliveries").get();
    expect(row).toEqual({ status: "failed", attempts: 3, last_error: "HTTP 500" });
    // A failed delivery is not retried forever by later runs.
    expect(await deliverWebhooks(cat.sqlite, config(), { sleep })).toEqual({ delivered: 0, failed: 0, pending: 0 });
    expect(hits).toHaveLength(3);
    cat.close();
  });

  it("leaves a long backoff on disk for a later call instead of waiting", async () => {
    const cat = catalogWithChanges(new Date().toISOString());
    statuses = [503];
    let clock = Date.now();
    const now = () => clock;
    const cfg = config({ backoffMs: 60_000 });
    expect(await deliverWebhooks(cat.sqlite, cfg, { now })).toEqual({ delivered: 0, failed: 0, pending: 1 });
    expect(await deliverWebhooks(cat.sqlite, cfg, { now })).toEqual({ delivered: 0, failed: 0, pending: 1 });
    expect(hits).toHaveLength(1);
    clock += 61_000;
    expect(await deliverWebhooks(cat.sqlite, cfg, { now })).toEqual({ delivered: 1, failed: 0, pending: 0 });
    expect(hits).toHaveLength(2);
    expect(hits[0]!.id).toBe(hits[1]!.id);
    cat.close();
  });

  it("records connection errors", async () => {
    const cat = catalogWithChanges(new Date().toISOString());
    const dead = "http://127.0.0.1:9/unreachable";
    const r = await deliverWebhooks(cat.sqlite, config({ urls: [dead], maxAttempts: 2 }), { sleep: async () => {} });
    expect(r.failed).toBe(1);
    const row = cat.sqlite.prepare("SELECT last_error FROM webhook_deliveries WHERE url = ?").get(dead) as {
      last_error: string;
    };
    expect(row.last_error.length).toBeGreaterThan(0);
    cat.close();
  });

  it("resumes a send left half-done by a dead process, but leaves one another process holds", async () => {
    const cat = catalogWithChanges(new Date().toISOString());
    const changeId = (cat.sqlite.prepare("SELECT id FROM changes WHERE severity = 'high'").get() as { id: number }).id;
    const other = "http://127.0.0.1:9/other";
    cat.sqlite
      .prepare(
        "INSERT INTO webhook_deliveries (change_id, url, status, attempts, claimed_at) VALUES (?, ?, 'sending', 1, ?)",
      )
      .run(changeId, url, new Date(Date.now() - 3600e3).toISOString());
    cat.sqlite
      .prepare(
        "INSERT INTO webhook_deliveries (change_id, url, status, attempts, claimed_at) VALUES (?, ?, 'sending', 1, ?)",
      )
      .run(changeId, other, new Date().toISOString());
    const r = await deliverWebhooks(cat.sqlite, config({ urls: [url, other] }));
    expect(r.delivered).toBe(1);
    expect(hits).toHaveLength(1);
    const rows = cat.sqlite.prepare("SELECT url, status, attempts FROM webhook_deliveries ORDER BY url").all();
    expect(rows).toContainEqual({ url, status: "delivered", attempts: 2 });
    expect(rows).toContainEqual({ url: other, status: "sending", attempts: 1 });
    cat.close();
  });

  it("does not replay changes older than maxAgeHours to a new URL", async () => {
    const cat = catalogWithChanges("2020-01-01T00:00:00.000Z");
    expect(await deliverWebhooks(cat.sqlite, config())).toEqual({ delivered: 0, failed: 0, pending: 0 });
    expect(hits).toHaveLength(0);
    cat.close();
  });

  it("does nothing without URLs", async () => {
    const cat = catalogWithChanges(new Date().toISOString());
    expect(await deliverWebhooks(cat.sqlite, loadWebhookConfig(undefined, {}))).toEqual({
      delivered: 0,
      failed: 0,
      pending: 0,
    });
    cat.close();
  });
});
