import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Classification, emptyProbeResult, type ProbeResult, type RawTool } from "../../src/core/types.js";
import { listChanges, recordChanges, renderAtom, toolHistory } from "../../src/history/index.js";
import { ingestProbe, saveClassification, toolHash, upsertSourceEntry } from "../../src/store/catalog.js";
import { type Catalog, openCatalog } from "../../src/store/db.js";

// Real tool lines from the shared dev set, turned into definitions.
const devSet = readFileSync(new URL("../../../shared/dev-set/tools.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as { server: string; tool: string; description: string; params: string[] });
const fsTools: RawTool[] = devSet
  .filter((t) => t.server === devSet[0]!.server)
  .slice(0, 6)
  .map((t) => ({
    name: t.tool,
    description: t.description,
    inputSchema: { type: "object", properties: Object.fromEntries(t.params.map((p) => [p, { type: "string" }])) },
  }));

function listing(tools: RawTool[], startedAt: string): ProbeResult {
  return { ...emptyProbeResult("ok", "stdio"), startedAt, durationMs: 1, tools };
}

// Hand-built classifications, clearly test data, so the classification aspect is tested apart from the heuristics.
const testClass = (category: Classification["category"]): Classification => ({
  access: category === "Read" ? "read" : "write",
  destructive: false,
  financial: false,
  category,
  risk: category === "Read" ? "low" : "medium",
  confidence: 1,
  signals: ["test data"],
  flags: [],
  source: "test",
  classifierVersion: "test-v1",
});

let dir: string;
let cat: Catalog;
let sid: number;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mcp-census-record-"));
  cat = openCatalog(join(dir, "catalog.db"));
  sid = upsertSourceEntry(cat.sqlite, {
    sourceId: "seed",
    sourceKey: "gh",
    entry: { name: devSet[0]!.server, packages: [], remotes: [] },
    raw: {},
  }).serverId;
});
afterAll(() => {
  cat.close();
  rmSync(dir, { recursive: true, force: true });
});

const probeAt = (tools: RawTool[], at: string) =>
  recordChanges(cat.sqlite, sid, ingestProbe(cat.sqlite, sid, listing(tools, at), at));

describe("recordChanges", () => {
  it("records nothing for the baseline listing and nothing when nothing changed", () => {
    expect(fsTools.length).toBeGreaterThanOrEqual(4);
    expect(probeAt(fsTools, "2025-01-01T00:00:00.000Z")).toEqual([]);
    expect(probeAt(fsTools, "2025-01-02T00:00:00.000Z")).toEqual([]);
  });

  it("uses stored classifications of the same classifier version: Read → Write is high", () => {
    const [first, second, ...rest] = fsTools;
    const changed = { ...second!, description: `${second!.description}. Also updates the record.` };
    saveClassification(cat.sqlite, toolHash(second!), testClass("Read"));
    saveClassification(cat.sqlite, toolHash(changed), testClass("Write"));
    const ev = probeAt([first!, changed, ...rest], "2025-01-03T00:00:00.000Z");
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ toolName: second!.name, severity: "high", at: "2025-01-03T00:00:00.000Z" });
    expect(ev[0]!.reason).toMatch(/Read to Write/);
    expect(ev[0]!.details.classification).toMatchObject({ from: { category: "Read" }, to: { category: "Write" } });
  });

  it("removals are low, re-additions medium, and a tool that flips back is recorded each time", () => {
    const [first, ...rest] = fsTools;
    const removed = probeAt(rest, "2025-01-04T00:00:00.000Z");
    expect(removed).toContainEqual(
      expect.objectContaining({ toolName: first!.name, kind: "tool_removed", severity: "low" }),
    );
    // The second tool went back to its earlier definition: that flip is a change of its own, not deduplicated away.
    expect(removed.map((e) => e.toolName)).toContain(fsTools[1]!.name);
    const back = probeAt(fsTools, "2025-01-05T00:00:00.000Z");
    expect(back).toEqual([expect.objectContaining({ toolName: first!.name, kind: "tool_added", severity: "medium" })]);
  });

  it("a failed probe records nothing and removes nothing", () => {
    const failed = { ...listing([], "2025-01-06T00:00:00.000Z"), outcome: "timeout" as const };
    const ingest = ingestProbe(cat.sqlite, sid, failed);
    expect(ingest.removed).toEqual([]);
    expect(recordChanges(cat.sqlite, sid, ingest)).toEqual([]);
  });
});

describe("listChanges", () => {
  it("pages newest first with a cursor that stays stable when new changes arrive", () => {
    const all = listChanges(cat.sqlite, { limit: 500 }).items;
    expect(all.length).toBeGreaterThanOrEqual(3);
    const p1 = listChanges(cat.sqlite, { limit: 1 });
    // A new change lands between page requests.
    const [first, ...rest] = fsTools;
    probeAt(
      [{ ...first!, description: "Something else entirely now, with new behaviour." }, ...rest],
      "2025-02-01T00:00:00.000Z",
    );
    const p2 = listChanges(cat.sqlite, { limit: 500, cursor: p1.nextCursor! });
    expect([...p1.items, ...p2.items].map((c) => c.id)).toEqual(all.map((c) => c.id));
  });

  it("filters by since (date or duration), server and minimum severity", () => {
    expect(listChanges(cat.sqlite, { since: "2025-01-04" }).items.every((c) => c.at >= "2025-01-04")).toBe(true);
    expect(listChanges(cat.sqlite, { since: "7d", now: "2025-01-06T00:00:00.000Z" }).items.length).toBeGreaterThan(0);
    expect(listChanges(cat.sqlite, { severity: "high" }).items.every((c) => c.severity === "high")).toBe(true);
    expect(listChanges(cat.sqlite, { severity: "medium" }).items.every((c) => c.severity !== "low")).toBe(true);
    expect(listChanges(cat.sqlite, { server: String(sid) }).items.length).toBeGreaterThan(0);
  });

  it("rejects bad input with clear errors", () => {
    expect(() => listChanges(cat.sqlite, { cursor: "garbage" })).toThrow(/invalid cursor/);
    expect(() => listChanges(cat.sqlite, { since: "last tuesday" })).toThrow(/--since must be/);
    expect(() => listChanges(cat.sqlite, { server: "nope/nope" })).toThrow(/no server/);
    expect(() => listChanges(cat.sqlite, { limit: 0 })).toThrow(/limit/);
    expect(() => listChanges(cat.sqlite, { severity: "urgent" as never })).toThrow(/severity/);
  });
});

describe("toolHistory and Atom", () => {
  it("lists versions oldest first with diffs", () => {
    const h = toolHistory(cat.sqlite, sid, fsTools[1]!.name);
    expect(h.versions).toHaveLength(2);
    expect(h.versions[1]!.diff.join("\n")).toContain("Also updates the record");
    expect(h.versions[0]!.classification?.category).toBe("Read");
    expect(toolHistory(cat.sqlite, sid, "no_such_tool").versions).toEqual([]);
  });

  it("escapes hostile text and strips characters XML cannot carry; output is deterministic", () => {
    const [c] = listChanges(cat.sqlite, { limit: 1 }).items;
    const hostile = { ...c!, toolName: 'x"><script>alert(1)</script>\u0001', reason: "a & b < c" };
    const xml = renderAtom([hostile], { title: "T & <t>", selfUrl: "https://e.test/feed?a=1&b=2" });
    expect(xml).not.toContain("<script>");
    expect(xml).toContain("&lt;script&gt;");
    expect(xml).toContain("a &amp; b &lt; c");
    expect(xml).toContain('href="https://e.test/feed?a=1&amp;b=2"');
    expect(xml).not.toContain("\u0001");
    expect(renderAtom([hostile], { title: "T & <t>", selfUrl: "https://e.test/feed?a=1&b=2" })).toBe(xml);
    expect(renderAtom([], { title: "empty", selfUrl: "https://e.test/f" })).toContain(
      "<updated>1970-01-01T00:00:00.000Z</updated>",
    );
  });
});
