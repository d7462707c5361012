import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/api/openapi.js";
import { ToolListQuerySchema } from "../../src/api/params.js";
import { LLM_JSON_SCHEMA, LlmAnswerSchema } from "../../src/classify/llm.js";
import {
  ACCESSES,
  CATEGORIES,
  CHANGE_KINDS,
  compareRisk,
  deriveCategory,
  flagKind,
  isPoisoningFlag,
  maxRisk,
  RISKS,
  reconcileRisk,
  SEVERITIES,
  severitiesFrom,
} from "../../src/core/vocabulary.js";
import { PolicyOverridesSchema } from "../../src/policy/overrides.js";

type Json = Record<string, unknown>;

describe("vocabulary", () => {
  it("orders risks and keeps the risk invariants", () => {
    expect([...RISKS].sort(compareRisk)).toEqual(["low", "medium", "high", "critical"]);
    expect(["high", "low", "critical", "medium"].sort((a, b) => compareRisk(a as never, b as never))).toEqual([
      "low",
      "medium",
      "high",
      "critical",
    ]);
    expect(maxRisk(undefined, "low")).toBe("low");
    expect(maxRisk("high", "medium")).toBe("high");
    expect(maxRisk("medium", "critical")).toBe("critical");
    // critical exactly when destructive or financial; executing is at least high
    expect(reconcileRisk("low", "write", true, false)).toBe("critical");
    expect(reconcileRisk("low", "read", false, true)).toBe("critical");
    expect(reconcileRisk("critical", "write", false, false)).toBe("high");
    expect(reconcileRisk("low", "execute", false, false)).toBe("high");
    expect(reconcileRisk("medium", "write", false, false)).toBe("medium");
  });

  it("derives the category: financial, then destructive, then access", () => {
    expect(deriveCategory("read", true, true)).toBe("Financial");
    expect(deriveCategory("read", true, false)).toBe("Destructive");
    expect(ACCESSES.map((a) => deriveCategory(a, false, false))).toEqual(["Read", "Write", "Execute"]);
    for (const c of ACCESSES.map((a) => deriveCategory(a, false, false))) expect(CATEGORIES).toContain(c);
  });

  it("knows flag kinds and severities", () => {
    expect(flagKind("poisoning:hidden_instructions")).toBe("poisoning");
    expect(flagKind("shadowing")).toBe("shadowing");
    expect(flagKind("something_else")).toBeUndefined();
    expect(isPoisoningFlag("shadowing")).toBe(true);
    expect(isPoisoningFlag("annotation_contradiction")).toBe(false);
    expect(severitiesFrom("medium")).toEqual(["medium", "high"]);
    expect(severitiesFrom("low")).toEqual([...SEVERITIES]);
  });

  it("is what the LLM schema, the API, the overrides and the OpenAPI document accept", () => {
    const props = (LLM_JSON_SCHEMA.schema as Json).properties as Record<string, Json>;
    expect(props.access?.enum).toEqual([...ACCESSES]);
    expect(props.risk?.enum).toEqual([...RISKS]);
    expect((LLM_JSON_SCHEMA.schema as Json).required).toEqual(Object.keys(LlmAnswerSchema.shape));
    expect(LLM_JSON_SCHEMA.strict).toBe(true);
    // the wire schema leaves string lengths out (strict mode rejects them); validation keeps them
    expect(props.reason).not.toHaveProperty("maxLength");
    expect(
      LlmAnswerSchema.safeParse({
        access: "read",
        destructive: false,
        financial: false,
        risk: "low",
        confidence: 0.5,
        reason: "",
      }).success,
    ).toBe(false);
    for (const r of RISKS) expect(ToolListQuerySchema.safeParse({ risk: r }).success).toBe(true);
    expect(ToolListQuerySchema.safeParse({ risk: "severe" }).success).toBe(false);
    for (const c of CATEGORIES) {
      expect(PolicyOverridesSchema.safeParse({ categories: { [c]: { action: "deny" } } }).success).toBe(true);
    }
    expect(PolicyOverridesSchema.safeParse({ categories: { Delete: { action: "deny" } } }).success).toBe(false);
    const schemas = (openApiDocument().components as Json).schemas as Record<string, Json>;
    const cls = schemas.Classification!.properties as Record<string, Json>;
    expect(cls.category?.enum).toEqual([...CATEGORIES]);
    expect(((schemas.Change!.properties as Record<string, Json>).kind as Json).enum).toEqual([...CHANGE_KINDS]);
  });

  // The site's search runs in the browser as a plain script (no imports): its facet words are a copy, kept equal here.
  it("is what the site's search script filters by", () => {
    const js = readFileSync(new URL("../../src/site/assets/search.js", import.meta.url), "utf8");
    const list = (name: string) =>
      JSON.parse(js.match(new RegExp(`const ${name} = (\\[[^\\]]*\\]);`))![1]!) as string[];
    expect(list("RISKS")).toEqual([...RISKS]);
    // it names the categories that read as words of their own ("destructive", "financial"): each must be one of ours
    const ours = CATEGORIES.map((c) => c.toLowerCase());
    expect(list("CATEGORIES").length).toBeGreaterThan(0);
    for (const c of list("CATEGORIES")) expect(ours).toContain(c);
  });
});
