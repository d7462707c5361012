import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyHeuristic } from "../../src/classify/heuristics.js";
import type { ProbeResult } from "../../src/core/types.js";
import {
  type ChangeEvent,
  deliverWebhooks,
  listChanges,
  loadWebhookConfig,
  recordChanges,
  renderAtom,
  toolHistory,
  verifySignature,
} from "../../src/history/index.js";
import { pinServers, verifyLock } from "../../src/history/lock.js";
import { probe } from "../../src/mcp/index.js";
import { ingestProbe, saveClassification, upsertSourceEntry } from "../../src/store/catalog.js";
import { type Catalog, openCatalog } from "../../src/store/db.js";
import { serverTools } from "../../src/store/queries.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/drift/notes-server.mjs", import.meta.url));
const SECRET = "test-secret-0123456789abcdef";

/** Lists the fixture server with the real sandboxed probe, as the crawl pipeline does. */
function probeFixture(variant: string): Promise<ProbeResult> {
  return probe(
    {
      kind: "command",
      command: process.execPath,
      args: [FIXTURE],
      env: { DRIFT_VARIANT: variant },
      cwd: process.cwd(),
    },
    {
      cacheDir: join(tmpdir(), "mcp-census-history-cache"),
      timeoutMs: 30_000,
      installTimeoutMs: 30_000,
      allowInstallScripts: false,
      // Uses the sandbox when bubblewrap works; only machines without it fall back.
      allowUnsandboxed: true,
      allowPrivateNetwork: false,
      memoryLimitMb: 2048,
    },
  );
}

/** What the pipeline does after a probe: store it, classify new definitions, record changes. */
function ingestAndRecord(cat: Catalog, serverId: number, result: ProbeResult): ChangeEvent[] {
  const ingest = ingestProbe(cat.sqlite, serverId, result);
  for (const t of serverTools(cat.sqlite, serverId)) {
    if (!t.classification) saveClassification(cat.sqlite, t.hash, classifyHeuristic({ ...t.raw, server: "drift" }));
  }
  return recordChanges(cat.sqlite, serverId, ingest);
}

interface Received {
  id: string;
  body: string;
  signed: boolean;
  status: number;
}

describe("drift: fixture server v1 → v2", () => {
  let dir: string;
  let dbPath: string;
  let cat: Catalog;
  let serverId: number;
  let v1: ProbeResult;
  let v2: ProbeResult;
  let events: ChangeEvent[];
  let receiver: Server;
  let url: string;
  const received: Received[] = [];
  let failFirst = true;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcp-census-history-"));
    dbPath = join(dir, "catalog.db");
    cat = openCatalog(dbPath);
    serverId = upsertSourceEntry(cat.sqlite, {
      sourceId: "seed",
      sourceKey: "io.github.example/drift-notes",
      entry: {
        name: "io.github.example/drift-notes",
        packages: [{ registryType: "npm", identifier: "@example/drift-notes", version: "1.0.0" }],
        remotes: [],
      },
      raw: {},
    }).serverId;
    [v1, v2] = [await probeFixture("v1"), await probeFixture("v2")];
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        // The first delivery attempt fails, so the retry path is exercised too.
        const status = failFirst ? 503 : 204;
        failFirst = false;
        received.push({
          id: String(req.headers["x-mcp-census-id"]),
          body,
          signed: verifySignature(SECRET, body, req.headers["x-mcp-census-signature"] as string),
          status,
        });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });

  afterAll(async () => {
    cat?.close();
    await new Promise<void>((r) => receiver?.close(() => r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lists both variants through the real probe", () => {
    expect(v1.outcome).toBe("ok");
    expect(v2.outcome).toBe("ok");
    expect(v1.tools.map((t) => t.name).sort()).toEqual(["export_report", "list_folders", "search_notes"]);
  });

  it("the first listing is a baseline, not three added tools", () => {
    expect(ingestAndRecord(cat, serverId, v1)).toEqual([]);
  });

  it("a failed probe is not 'all tools removed'", async () => {
    const crashed = await probeFixture("crash");
    expect(crashed.outcome).not.toBe("ok");
    const ingest = ingestProbe(cat.sqlite, serverId, crashed);
    expect(ingest.removed).toEqual([]);
    expect(recordChanges(cat.sqlite, serverId, ingest)).toEqual([]);
    expect(serverTools(cat.sqlite, serverId)).toHaveLength(3);
  });

  it("v2 produces three high change events with reasons", () => {
    events = ingestAndRecord(cat, serverId, v2);
    const byTool = Object.fromEntries(events.map((e) => [e.toolName, e]));
    expect(events).toHaveLength(3);
    expect(byTool.search_notes).toMatchObject({ kind: "description_changed", severity: "high" });
    expect(byTool.search_notes?.reason).toMatch(/IMPORTANT/);
    expect(byTool.export_report).toMatchObject({ kind: "schema_changed", severity: "high" });
    expect(byTool.export_report?.reason).toMatch(/"command"/);
    expect(byTool.list_folders).toMatchObject({ kind: "annotations_changed", severity: "high" });
    expect(byTool.list_folders?.reason).toMatch(/readOnlyHint flipped to false/);
  });

  it("recording the same ingest again stores nothing", () => {
    const probeId = events[0]!.probeId!;
    const again = recordChanges(cat.sqlite, serverId, {
      probeId,
      added: [],
      removed: [],
      changed: events.map((e) => ({ name: e.toolName, from: e.fromHash, to: e.toHash })),
      unchanged: 0,
      newVersions: 0,
    });
    expect(again).toEqual([]);
    expect((cat.sqlite.prepare("SELECT count(*) AS n FROM changes").get() as { n: number }).n).toBe(3);
  });

  it("lists changes by severity with a stable cursor, and renders an escaped Atom feed", () => {
    const p1 = listChanges(cat.sqlite, { severity: "high", limit: 2 });
    expect(p1.items).toHaveLength(2);
    expect(p1.nextCursor).toBeTruthy();
    const p2 = listChanges(cat.sqlite, { severity: "high", limit: 2, cursor: p1.nextCursor! });
    expect(p2.items).toHaveLength(1);
    expect(p2.nextCursor).toBeNull();
    const ids = [...p1.items, ...p2.items].map((c) => c.id);
    expect(new Set(ids).size).toBe(3);
    expect(listChanges(cat.sqlite, { server: "io.github.example/drift-notes" }).items).toHaveLength(3);
    expect(listChanges(cat.sqlite, { since: "2999-01-01" }).items).toHaveLength(0);
    const atom = renderAtom(p1.items.concat(p2.items), { title: "drift <notes>", selfUrl: "https://x.test/feed.xml" });
    expect(atom).toContain("<title>drift &lt;notes&gt;</title>");
    expect(atom).toContain("&lt;IMPORTANT&gt;");
    expect(atom).not.toContain("<IMPORTANT>");
    expect(atom.match(/<entry>/g)).toHaveLength(3);
  });

  it("keeps each tool's versions with dates and a readable diff", () => {
    const h = toolHistory(cat.sqlite, serverId, "search_notes");
    expect(h.versions).toHaveLength(2);
    expect(h.versions[0]!.diff).toEqual([]);
    expect(h.versions[1]!.diff.some((l) => l.includes("+<IMPORTANT>"))).toBe(true);
    expect(h.versions[1]!.firstSeen >= h.versions[0]!.firstSeen).toBe(true);
    expect(h.changes).toHaveLength(1);
    const exp = toolHistory(cat.sqlite, serverId, "export_report");
    expect(exp.versions[1]!.diff.some((l) => l.startsWith("  + command (string)"))).toBe(true);
  });

  it("delivers each high change to the webhook exactly once, also after a restart", async () => {
    const config = loadWebhookConfig(undefined, {
      MCP_CENSUS_WEBHOOK_URLS: url,
      MCP_CENSUS_WEBHOOK_SECRET: SECRET,
      MCP_CENSUS_WEBHOOK_MIN_SEVERITY: "high",
      MCP_CENSUS_WEBHOOK_BACKOFF_MS: "20",
    });
    const first = await deliverWebhooks(cat.sqlite, config);
    expect(first).toEqual({ delivered: 3, failed: 0, pending: 0 });
    cat.close();
    // A fresh process: a new handle on the same file.
    cat = openCatalog(dbPath);
    const second = await deliverWebhooks(cat.sqlite, config);
    expect(second).toEqual({ delivered: 0, failed: 0, pending: 0 });
    const ok = received.filter((r) => r.status === 204);
    expect(ok).toHaveLength(3);
    expect(new Set(ok.map((r) => r.id)).size).toBe(3);
    expect(received.every((r) => r.signed)).toBe(true);
    expect(received).toHaveLength(4); // one 503, retried
    const bodies = ok.map((r) => JSON.parse(r.body) as { severity: string; tool: string });
    expect(bodies.map((b) => b.severity)).toEqual(["high", "high", "high"]);
    const rows = cat.sqlite.prepare("SELECT status, attempts FROM webhook_deliveries ORDER BY change_id").all();
    expect(rows.map((r) => (r as { status: string }).status)).toEqual(["delivered", "delivered", "delivered"]);
    expect(rows.some((r) => (r as { attempts: number }).attempts === 2)).toBe(true);
  });

  it("verify against the v1 pin fails on v2 with a diff, and passes on v1", async () => {
    // Build the pin from a catalog that holds v1: a second catalog so the main one keeps its history.
    const pinDb = openCatalog(join(dir, "pin.db"));
    try {
      const sid = upsertSourceEntry(pinDb.sqlite, {
        sourceId: "seed",
        sourceKey: "drift-notes",
        entry: { name: "drift-notes", packages: [], remotes: [] },
        raw: {},
      }).serverId;
      ingestProbe(pinDb.sqlite, sid, v1);
      const lock = pinServers(pinDb.sqlite, ["drift-notes"]);
      expect(Object.keys(lock.servers["drift-notes"]!.tools).sort()).toEqual([
        "export_report",
        "list_folders",
        "search_notes",
      ]);
      let variant = "v2";
      const list = () => probeFixture(variant);
      const bad = await verifyLock(lock, list);
      expect(bad.ok).toBe(false);
      const drift = bad.servers[0]!.drift;
      expect(drift.map((d) => `${d.change}:${d.tool}:${d.severity}`)).toEqual([
        "changed:export_report:high",
        "changed:list_folders:high",
        "changed:search_notes:high",
      ]);
      const text = drift.flatMap((d) => d.diff).join("\n");
      expect(text).toContain("+<IMPORTANT>");
      expect(text).toContain("+ command (string)");
      expect(text).toContain("readOnlyHint: true → false");
      variant = "v1";
      expect((await verifyLock(lock, list)).ok).toBe(true);
      variant = "crash";
      const failed = await verifyLock(lock, list);
      expect(failed.ok).toBe(false);
      expect(failed.servers[0]).toMatchObject({ status: "probe_failed", drift: [] });
    } finally {
      pinDb.close();
    }
  });
});
