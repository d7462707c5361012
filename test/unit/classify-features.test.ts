import { describe, expect, it } from "vitest";
import { decide, type Feature, renderSignal, UNSURE_BELOW } from "../../src/classify/features.js";
import { classifyHeuristic, extractFeatures } from "../../src/classify/heuristics.js";
import type { ToolInput } from "../../src/core/types.js";

const tool = (name: string, description: string, properties: Record<string, unknown> = {}, annotations?: object) =>
  ({ name, description, inputSchema: { type: "object", properties }, annotations }) as ToolInput;

const f = (id: string, to: Feature["to"], weight: number): Feature => ({
  id,
  on: "name",
  text: id,
  to,
  weight,
  why: id,
});

describe("features", () => {
  it("name what fired, where, and what it points to", () => {
    const fs = extractFeatures(tool("delete_record", "Deletes a record", { id: { type: "string" } }));
    const verb = fs.find((x) => x.id === "name.verb.destructive");
    expect(verb).toMatchObject({ on: "name", text: "delete", to: "destructive" });
    expect(verb!.weight).toBeGreaterThan(0);
  });

  it("are what users see: every feature renders one signal, in order, before the decision's notes", () => {
    const t = tool("run_query", "Execute any SQL query against the database", { sql: { type: "string" } });
    const fs = extractFeatures(t);
    const c = classifyHeuristic(t);
    expect(c.signals.slice(0, fs.length)).toEqual(fs.map(renderSignal));
    expect(fs.some((x) => x.id === "sql.unrestricted" && x.on === "parameter" && x.text === "sql")).toBe(true);
    expect(c.access).toBe("execute");
    expect(c.destructive).toBe(true);
  });

  it("decide: a fitted weight replaces the hand weight by id", () => {
    const fs = [f("name.verb.read", "read", 3), f("desc.verb.write", "write", 1)];
    expect(decide(fs).access).toBe("read");
    expect(decide(fs, { weights: { "desc.verb.write": 4 } }).access).toBe("write");
  });
});

describe("fail safe", () => {
  it("a read verdict with any write or execute evidence is unsure", () => {
    const sure = decide([f("name.verb.read", "read", 3), f("desc.verb.read", "read", 2)]);
    expect(sure.access).toBe("read");
    expect(sure.confidence).toBeGreaterThanOrEqual(UNSURE_BELOW);
    expect(sure.unsure).toBe(false);
    const mixed = decide([f("name.verb.read", "read", 3), f("desc.verb.read", "read", 2), f("p", "write", 1)]);
    expect(mixed.access).toBe("read");
    expect(mixed.confidence).toBeLessThan(UNSURE_BELOW);
    expect(mixed.unsure).toBe(true);
  });

  it("no evidence at all is not read", () => {
    const v = decide([]);
    expect(v.access).toBe("write");
    expect(v.unsure).toBe(true);
  });

  it("unsure verdicts carry the 'unsure' flag the policy acts on", () => {
    const c = classifyHeuristic(tool("frobnicate", ""));
    expect(c.access).not.toBe("read");
    expect(c.flags).toContain("unsure");
    const sure = classifyHeuristic(tool("list_users", "List the users of the workspace", {}));
    expect(sure.access).toBe("read");
    expect(sure.flags).not.toContain("unsure");
  });
});

describe("the LLM prompt", () => {
  it("receives the features that fired, fenced as data after the definition", async () => {
    const { buildUserMessage, SYSTEM_PROMPT } = await import("../../src/classify/llm.js");
    const t = tool("replace_page", "Replaces the entire page", { html: { type: "string" } });
    const c = classifyHeuristic(t);
    const msg = buildUserMessage(t, "m4rk", c.signals);
    const begin = msg.indexOf("-----BEGIN HEURISTIC FEATURES m4rk-----");
    const end = msg.indexOf("-----END HEURISTIC FEATURES m4rk-----");
    expect(begin).toBeGreaterThan(msg.indexOf("-----END UNTRUSTED TOOL m4rk-----"));
    const fenced = msg.slice(begin, end);
    for (const s of c.signals) expect(fenced).toContain(s);
    expect(c.signals.some((s) => s.includes("replaces what was there"))).toBe(true);
    expect(buildUserMessage(t, "m4rk")).not.toContain("HEURISTIC FEATURES");
    expect(SYSTEM_PROMPT).toContain("readOnlyHint and destructiveHint are one signal");
  });
});

describe("optional nested parameters", () => {
  it("a nested option that runs code makes a search tool execute", () => {
    const actions = {
      type: "array",
      items: { type: "object", properties: { type: { enum: ["click", "executeJavascript"] } } },
    };
    const t = tool("web_search", "Search the web and return results", {
      query: { type: "string" },
      scrapeOptions: { type: "object", properties: { actions } },
    });
    const c = classifyHeuristic(t);
    expect(c.access).toBe("execute");
    expect(extractFeatures(t).find((f) => f.id === "param.nested_code")?.text).toBe("executeJavascript");
    const plain = tool("web_search", "Search the web and return results", { query: { type: "string" } });
    expect(classifyHeuristic(plain).access).toBe("read");
  });
});
