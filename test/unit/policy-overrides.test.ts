import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/core/errors.js";
import type { Classification } from "../../src/core/types.js";
import { decidePolicy, loadOverrides, parseOverrides, renderPolicy } from "../../src/policy/index.js";
import { tempDir } from "../fixtures/configs/policy-test-kit.js";

const cls = (category: Classification["category"], risk: Classification["risk"]): Classification => ({
  access: "read",
  destructive: false,
  financial: false,
  category,
  risk,
  confidence: 1,
  signals: [],
  flags: [],
  source: "test",
  classifierVersion: "test-1",
});
const tools = [
  { name: "read_a", classification: cls("Read", "low") },
  { name: "read_secret", classification: cls("Read", "high") },
  { name: "write_a", classification: cls("Write", "medium") },
  { name: "write_b", classification: cls("Write", "medium") },
  { name: "drop_db", classification: cls("Destructive", "critical") },
  { name: "unknown_one", classification: null },
];
const server = { name: "io.example/db", slug: "io-example-db" };
const action = (d: ReturnType<typeof decidePolicy>, t: string) => d.tools.find((x) => x.tool === t)?.action;

describe("overrides", () => {
  it("apply per tool, by category and by risk, the most specific winning", () => {
    const overrides = parseOverrides({
      risks: { high: { action: "deny", reason: "we never expose secrets" } },
      categories: { Write: { action: "limit", limit: { window: "hour", max: 5 } } },
      tools: {
        write_b: { action: "allow" },
        "io-example-db/drop_db": { action: "approve" },
        unknown_one: { action: "allow", reason: "reviewed by hand" },
      },
    });
    const d = decidePolicy(server, tools, { overrides });
    expect(action(d, "read_a")).toBe("allow");
    expect(d.tools.find((t) => t.tool === "read_secret")).toMatchObject({
      action: "deny",
      reason: "we never expose secrets",
    });
    expect(d.tools.find((t) => t.tool === "write_a")).toMatchObject({
      action: "limit",
      limit: { window: "hour", max: 5 },
    });
    expect(action(d, "write_b")).toBe("allow");
    expect(action(d, "drop_db")).toBe("approve");
    expect(d.tools.find((t) => t.tool === "unknown_one")).toMatchObject({
      action: "allow",
      reason: "reviewed by hand",
    });
    const p = JSON.parse(renderPolicy(d, "policy.json"));
    expect(p.tools.write_a.limits).toEqual([{ counter: "calls_per_hour", window: "hour", max: 5, scope: "grant" }]);
    expect(p.hide).toEqual([]);
  });

  it("category and risk overrides never loosen an unclassified tool", () => {
    const d = decidePolicy(server, tools, { overrides: parseOverrides({ risks: { critical: { action: "allow" } } }) });
    expect(action(d, "unknown_one")).toBe("deny");
    expect(action(d, "drop_db")).toBe("allow");
  });

  it("load from JSON or YAML files", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "o.json"), JSON.stringify({ tools: { read_a: { action: "hide" } } }));
    writeFileSync(join(dir, "o.yaml"), "categories:\n  Read:\n    action: deny\n");
    expect(action(decidePolicy(server, tools, { overrides: loadOverrides(join(dir, "o.json")) }), "read_a")).toBe(
      "hide",
    );
    expect(action(decidePolicy(server, tools, { overrides: loadOverrides(join(dir, "o.yaml")) }), "read_a")).toBe(
      "deny",
    );
  });

  it("reject bad files with one clear line", () => {
    const dir = tempDir();
    const cases: [string, string, RegExp][] = [
      ["typo.json", JSON.stringify({ tool: {} }), /\(top level\): .*tool/i],
      ["bad-action.json", JSON.stringify({ tools: { x: { action: "maybe" } } }), /tools\.x\.action/],
      [
        "no-limit.json",
        JSON.stringify({ tools: { x: { action: "limit" } } }),
        /tools\.x\.limit: action "limit" needs a limit/,
      ],
      ["bad-cat.json", JSON.stringify({ categories: { Reading: { action: "allow" } } }), /categories/],
      ["broken.json", "{ nope", /is not valid JSON/],
    ];
    for (const [name, text, re] of cases) {
      writeFileSync(join(dir, name), text);
      let err: unknown;
      try {
        loadOverrides(join(dir, name));
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe("bad_input");
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain("\n");
    }
    expect(() => loadOverrides(join(dir, "missing.json"))).toThrow(/cannot read overrides file .*ENOENT/);
  });
});
