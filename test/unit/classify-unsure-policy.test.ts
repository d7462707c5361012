import { describe, expect, it } from "vitest";
import type { Classification } from "../../src/core/types.js";
import { decideTool } from "../../src/policy/index.js";

const read = (flags: string[]): Classification => ({
  access: "read",
  destructive: false,
  financial: false,
  category: "Read",
  risk: "low",
  confidence: flags.includes("unsure") ? 0.45 : 0.9,
  signals: [],
  flags,
  source: "heuristic",
  classifierVersion: "test-1",
});

describe("an unsure classification in the recommended policy", () => {
  it("asks for approval where a sure read is allowed, in every profile", () => {
    for (const profile of ["balanced", "strict", "permissive"] as const) {
      expect(decideTool({ name: "get_x", classification: read([]) }, profile).action).toBe("allow");
      const d = decideTool({ name: "get_x", classification: read(["unsure"]) }, profile);
      expect(d.action).toBe("approve");
      expect(d.reason).toContain("unsure");
    }
  });
  it("leaves stricter decisions alone", () => {
    const w: Classification = { ...read(["unsure"]), access: "write", category: "Write", risk: "medium" };
    expect(decideTool({ name: "set_x", classification: w }, "balanced").action).toBe("limit");
    expect(decideTool({ name: "set_x", classification: w }, "strict").action).toBe("deny");
  });
});
