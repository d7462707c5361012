import { describe, expect, it } from "vitest";
import { ids, jobId, newRunKey, runKeyFrom } from "../../src/jobs/ids.js";
import { ProbedJobSchema, validate } from "../../src/jobs/schemas.js";

describe("job ids", () => {
  it("never contain ':' nor are all digits, and distinct inputs stay distinct", () => {
    const made = [
      jobId("probe", "a:b", 1),
      jobId("probe", "a_b", 1),
      jobId("probe", "a-b", 1),
      jobId("probe", "a", "b-1"),
      jobId(123),
      jobId(""),
      runKeyFrom("repeat:official-incremental:1700000000000"),
      ids.probe(newRunKey(), 42),
    ];
    for (const id of made) {
      expect(id).not.toContain(":");
      expect(id).not.toMatch(/^\d*$/);
    }
    expect(new Set(made.slice(0, 4)).size).toBe(4);
    expect(jobId(123)).toBe("j-123");
    expect(ids.probe("r1", 7)).toBe(ids.probe("r1", 7));
    expect(ids.probe("r1", 7)).not.toBe(ids.probed("r1", 7));
  });

  it("payload validation keeps the original object (key order, no defaults) and names the first problem", () => {
    const result = {
      outcome: "ok",
      transport: "stdio",
      launch: {},
      startedAt: "2026-01-01T00:00:00.000Z",
      durationMs: 1,
      timings: {},
      tools: [{ zeta: 1, name: "t", alpha: { b: 1, a: 2 } }],
      prompts: [],
      resources: [],
      resourceTemplates: [],
      placeholders: [],
      warnings: [],
    };
    const data = JSON.parse(JSON.stringify({ runKey: "r1", serverId: 3, server: "s", result }));
    const out = validate(ProbedJobSchema, data, "probed");
    expect(out).toBe(data);
    expect(JSON.stringify(out.result.tools[0])).toBe('{"zeta":1,"name":"t","alpha":{"b":1,"a":2}}');
    expect(() => validate(ProbedJobSchema, { ...data, serverId: "3" }, "probed")).toThrow(
      /^invalid probed payload: serverId: /,
    );
    expect(() => validate(ProbedJobSchema, { ...data, runKey: "a:b" }, "probed")).toThrow(/runKey/);
  });
});
