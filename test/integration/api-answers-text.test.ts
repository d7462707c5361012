/**
 * The hot REST answers (tool detail, server detail, tool pages) are written as JSON text with the catalog's stored
 * JSON columns spliced in, not parsed and serialised again (issue 20, app vs bare handler). They must be the same
 * bytes the object answers gave: here every tool and server of a real test catalog (with a tool that has three
 * versions and a recorded change) is answered both ways — the text, and JSON.stringify of the answer built from
 * parsed rows as the API built it before — and compared byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  listToolPage,
  listToolPageJson,
  serverDetailJson,
  serverRuntimes,
  serverTransports,
  toolDetailJson,
} from "../../src/api/queries.js";
import type { RawTool } from "../../src/core/types.js";
import { renderToolDiff } from "../../src/history/diff.js";
import { lookupServer, toolByRef, versionRows } from "../../src/store/api.js";
import { changesOfTool } from "../../src/store/changes.js";
import { lastProbe, serverSources, serverTools } from "../../src/store/queries.js";
import { buildTestCatalog, relistWithDescription, type TestCatalog } from "./api-fixture.js";

let t: TestCatalog;
const GH = "@modelcontextprotocol/server-github";

beforeAll(() => {
  t = buildTestCatalog();
  // A third listing of one server, with a recorded change: history with diffs and a change event to answer.
  relistWithDescription(t.catalog, GH, "create_repository", '— "quoted" \u2028 é 😀', "2026-03-01T00:00:00.000Z");
});

afterAll(() => t.close());

/** Tool detail as the API built it before: parsed rows, one object, JSON.stringify. */
function toolDetailObject(serverRef: string, toolRef: string) {
  const { sqlite } = t.catalog;
  const s = lookupServer(sqlite, serverRef)!;
  const tool = toolByRef(sqlite, s.id, toolRef)!;
  const versions = versionRows(sqlite, s.id, tool.name);
  let prev: RawTool | null = null;
  const history = versions.map((v) => {
    const definition = v.hash === tool.hash ? tool.raw : (JSON.parse(v.raw) as RawTool);
    const diff = prev ? renderToolDiff(prev, definition) : [];
    prev = definition;
    return {
      hash: v.hash,
      firstSeen: v.firstSeen,
      lastSeen: v.lastSeen,
      current: v.hash === tool.hash,
      definition,
      diff,
    };
  });
  const changes = changesOfTool(sqlite, s.id, tool.name).map((c) => ({
    id: c.id,
    server: { id: c.serverId, slug: c.serverSlug, name: c.server },
    at: c.at,
    tool: c.toolName,
    kind: c.kind,
    severity: c.severity,
    reason: c.reason,
    fromHash: c.fromHash,
    toHash: c.toHash,
    details: c.details,
  }));
  const cur = versions.find((v) => v.hash === tool.hash);
  return {
    server: { id: s.id, slug: s.slug, name: s.name, status: s.status },
    name: tool.name,
    slug: tool.slug,
    title: tool.title,
    description: tool.description,
    annotations: tool.annotations,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
    definition: tool.raw,
    hash: tool.hash,
    firstSeen: tool.firstSeen,
    lastSeen: tool.lastSeen,
    removedAt: tool.removedAt,
    tokenCost: Math.ceil((cur ? cur.raw.length : JSON.stringify(tool.raw).length) / 4),
    classification: tool.classification,
    history,
    changes,
  };
}

/** Server detail as the API built it before. */
function serverDetailObject(ref: string) {
  const { sqlite } = t.catalog;
  const s = lookupServer(sqlite, ref)!;
  const tools = serverTools(sqlite, s.id);
  const probe = lastProbe(sqlite, s.id);
  const tally = (pick: (x: (typeof tools)[number]) => string | null | undefined) => {
    const out: Record<string, number> = {};
    for (const x of tools) {
      const k = pick(x) ?? "unclassified";
      out[k] = (out[k] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  };
  return {
    ...s,
    transports: serverTransports(s),
    runtimes: serverRuntimes(s),
    probe: probe
      ? {
          outcome: probe.outcome,
          startedAt: probe.startedAt,
          durationMs: probe.durationMs,
          transport: probe.transport,
          error: probe.error,
          protocolVersion: probe.protocolVersion,
          serverInfo: probe.serverInfo,
          toolCount: probe.toolCount,
          warnings: probe.warnings,
        }
      : null,
    toolCount: tools.length,
    byCategory: tally((x) => x.classification?.category),
    byRisk: tally((x) => x.classification?.risk),
    // Server detail measures the stored definitions in SQL (length() counts code points, not UTF-16 units).
    tokenCost: Math.ceil([...JSON.stringify(tools.map((x) => x.raw))].length / 4),
    sources: serverSources(sqlite, s.id).map((x) => ({
      sourceId: x.sourceId,
      sourceKey: x.sourceKey,
      status: x.status,
      firstSeen: x.firstSeen,
      lastSeen: x.lastSeen,
    })),
    tools: tools.map((x) => ({
      name: x.name,
      slug: x.slug,
      title: x.title,
      category: x.classification?.category ?? null,
      risk: x.classification?.risk ?? null,
      flags: x.classification?.flags ?? [],
      tokenCost: Math.ceil([...JSON.stringify(x.raw)].length / 4),
    })),
  };
}

describe("REST answers written as text are the bytes the object answers gave", () => {
  it("tool detail, for every tool of every server (history, diffs and change events included)", () => {
    const { sqlite } = t.catalog;
    const rows = sqlite
      .prepare("SELECT s.slug, t.name FROM tools t JOIN servers s ON s.id = t.server_id ORDER BY t.id")
      .all() as { slug: string; name: string }[];
    expect(rows.length).toBeGreaterThan(300);
    let withHistory = 0;
    let withChanges = 0;
    for (const r of rows) {
      const text = toolDetailJson(sqlite, r.slug, r.name);
      const object = toolDetailObject(r.slug, r.name);
      expect(text, `${r.slug}/${r.name}`).toBe(JSON.stringify(object));
      if (object.history.length > 1) withHistory++;
      if (object.changes.length > 0) withChanges++;
    }
    // The comparison covered diffs and change events, not only single-version tools.
    expect(withHistory).toBeGreaterThan(0);
    expect(withChanges).toBeGreaterThan(0);
  });

  it("server detail, for every server", () => {
    const { sqlite } = t.catalog;
    const slugs = (sqlite.prepare("SELECT slug FROM servers ORDER BY id").all() as { slug: string }[]).map(
      (r) => r.slug,
    );
    expect(slugs.length).toBeGreaterThan(10);
    for (const slug of slugs)
      expect(serverDetailJson(sqlite, slug), slug).toBe(JSON.stringify(serverDetailObject(slug)));
  });

  it("tool pages: search, filters, sorts and later pages", () => {
    const { sqlite } = t.catalog;
    const queries = [
      { limit: 20 },
      { limit: 200 },
      { q: "file", limit: 20 },
      { q: "delete OR remove", limit: 5 },
      { q: "repo*", limit: 50 },
      { sort: "name" as const, limit: 50 },
      { sort: "risk" as const, limit: 50 },
      { category: "Destructive" as const, limit: 100 },
      { annotation: "any" as const, limit: 100 },
    ];
    let items = 0;
    for (const q0 of queries) {
      let q: Parameters<typeof listToolPage>[1] = q0;
      for (let n = 0; n < 3; n++) {
        const text = listToolPageJson(sqlite, q);
        const object = listToolPage(sqlite, q);
        expect(text, JSON.stringify(q)).toBe(JSON.stringify(object));
        items += object.items.length;
        if (!object.nextCursor) break;
        q = { ...q0, cursor: object.nextCursor };
      }
    }
    expect(items).toBeGreaterThan(300);
  });
});
