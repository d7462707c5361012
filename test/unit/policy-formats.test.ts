import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Classification } from "../../src/core/types.js";
import {
  decidePolicy,
  POLICY_FORMATS,
  type PolicyDecision,
  renderPolicy,
  ruleForTool,
} from "../../src/policy/index.js";
import { devTools, testClassification } from "../fixtures/configs/policy-test-kit.js";

const cls = (
  category: Classification["category"],
  risk: Classification["risk"],
  flags: string[] = [],
): Classification => ({
  access: category === "Read" ? "read" : category === "Execute" ? "execute" : "write",
  destructive: category === "Destructive",
  financial: category === "Financial",
  category,
  risk,
  confidence: 0.9,
  signals: [],
  flags,
  source: "test",
  classifierVersion: "test-1",
});

/** One tool of every kind, plus hostile names. */
function sample(): PolicyDecision {
  return decidePolicy({ name: "io.example/shop", slug: "io-example-shop" }, [
    { name: "list_items", classification: cls("Read", "low") },
    { name: "dump_env", classification: cls("Read", "high") },
    { name: "create_item", classification: cls("Write", "medium") },
    { name: "run_sql", classification: cls("Execute", "high") },
    { name: "delete_item", classification: cls("Destructive", "critical") },
    { name: "refund", classification: cls("Financial", "critical") },
    { name: "mystery", classification: null },
    { name: "poisoned_read", classification: cls("Read", "low", ["poisoning:hidden-instructions"]) },
    { name: "__proto__", classification: cls("Read", "low") },
    { name: "*", classification: cls("Read", "low") },
    { name: 'evil"name\n# injected = true', classification: cls("Read", "low") },
    { name: "with.dot", classification: cls("Read", "low") },
  ]);
}

// Shapes written from each client's documentation.
const ClaudeCode = z.strictObject({
  permissions: z.strictObject({
    allow: z.array(z.string().regex(/^mcp__[A-Za-z0-9_-]+__[A-Za-z0-9_-]+$/)),
    ask: z.array(z.string().regex(/^mcp__[A-Za-z0-9_-]+__[A-Za-z0-9_-]+$/)),
    deny: z.array(z.string().regex(/^mcp__[A-Za-z0-9_-]+__[A-Za-z0-9_-]+$/)),
  }),
});
// Cursor permissions.json: mcpAllowlist of "server:tool"; unknown keys are ignored by Cursor.
const Cursor = z.object({ mcpAllowlist: z.array(z.string().regex(/^[^:\s]+:[^:*\s]+$/)).optional() });
const Gemini = z.strictObject({
  mcpServers: z.record(
    z.string(),
    z.strictObject({ includeTools: z.array(z.string()), excludeTools: z.array(z.string()) }),
  ),
});
const Vscode = z.object({
  "chat.tools.eligibleForAutoApproval": z.record(z.string().regex(/^[^/]+\/[\s\S]+$/), z.boolean()),
});
// Intercept (PolicyLayer/Intercept POLICY.md): version "1", default allow|deny, hide list, tools.<name>.rules[] where
// each rule has a name; action evaluate|deny; deny rules have no conditions; rate_limit is N/minute|hour|day.
const InterceptRule = z
  .strictObject({
    name: z.string().min(1),
    action: z.enum(["evaluate", "deny"]).optional(),
    rate_limit: z
      .string()
      .regex(/^[1-9]\d*\/(minute|hour|day)$/)
      .optional(),
    on_deny: z.string().optional(),
  })
  .refine((r) => !(r.action === "deny" && r.rate_limit), "rate_limit cannot go with action deny")
  .refine((r) => r.action === "deny" || r.rate_limit, "evaluate rules need conditions (or rate_limit)");
const Intercept = z.strictObject({
  version: z.literal("1"),
  description: z.string().optional(),
  default: z.enum(["allow", "deny"]),
  hide: z.array(z.string().min(1)),
  tools: z.record(z.string(), z.strictObject({ rules: z.array(InterceptRule) })),
});

/** A strict reader for the TOML subset we emit: tables, and keys with string or string-array values. */
function parseTomlSubset(text: string): Record<string, Record<string, unknown>> {
  const str = String.raw`"(?:[^"\\\x00-\x1f\x7f]|\\["\\]|\\u[0-9A-F]{4}|\\U[0-9A-F]{8})*"`;
  const key = String.raw`(?:[A-Za-z0-9_-]+|${str})`;
  const tables: Record<string, Record<string, unknown>> = {};
  let cur: Record<string, unknown> | undefined;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const t = new RegExp(`^\\[(${key}(?:\\.${key})*)\\]$`).exec(line);
    if (t) {
      cur = tables[t[1]!] = {};
      continue;
    }
    const kv = new RegExp(`^(${key}) = (${str}|\\[(?:${str}(?:, ${str})*)?\\])$`).exec(line);
    if (!kv || !cur) throw new Error(`not valid TOML for us: ${JSON.stringify(line)}`);
    cur[kv[1]!] = JSON.parse(
      kv[2]!.replace(/\\U([0-9A-F]{8})/g, (_m, h) => String.fromCodePoint(Number.parseInt(h, 16))),
    );
  }
  return tables;
}

describe("every format has its documented shape", () => {
  const d = sample();

  it("Claude Code: permissions allow / ask / deny with mcp__<server>__<tool>", () => {
    const o = ClaudeCode.parse(JSON.parse(renderPolicy(d, "claude-code")));
    expect(o.permissions.allow).toContain("mcp__io-example-shop__list_items");
    expect(o.permissions.ask).toEqual(
      expect.arrayContaining([
        "mcp__io-example-shop__refund",
        "mcp__io-example-shop__create_item",
        "mcp__io-example-shop__dump_env",
      ]),
    );
    expect(o.permissions.deny).toEqual(
      expect.arrayContaining(["mcp__io-example-shop__delete_item", "mcp__io-example-shop__mystery"]),
    );
    const all = [...o.permissions.allow, ...o.permissions.ask, ...o.permissions.deny];
    expect(new Set(all).size).toBe(all.length);
    // Hostile names never reach allow or ask.
    expect(o.permissions.allow.some((n) => n.includes("evil") || n.endsWith("__*"))).toBe(false);
  });

  it("Cursor: mcpAllowlist of server:tool, only allowed tools", () => {
    const o = Cursor.parse(JSON.parse(renderPolicy(d, "cursor")));
    expect(o.mcpAllowlist).toEqual([
      "io-example-shop:__proto__",
      "io-example-shop:list_items",
      "io-example-shop:with.dot",
    ]);
  });

  it("Codex: [mcp_servers.<name>] with enabled_tools / disabled_tools, valid TOML strings", () => {
    const text = renderPolicy(d, "codex");
    const t = parseTomlSubset(text);
    const server = t["mcp_servers.io-example-shop"]!;
    expect(server.enabled_tools).toEqual([
      "__proto__",
      "create_item",
      "dump_env",
      "list_items",
      "refund",
      "run_sql",
      "with.dot",
    ]);
    expect(server.disabled_tools).toEqual(
      expect.arrayContaining(["delete_item", "mystery", "*", 'evil"name\n# injected = true']),
    );
    expect(t["mcp_servers.io-example-shop.tools.refund"]).toEqual({ approval_mode: "prompt" });
    expect(t["mcp_servers.io-example-shop.tools.dump_env"]).toEqual({ approval_mode: "prompt" });
    expect(text).not.toMatch(/^# injected/m);
  });

  it("Gemini CLI: mcpServers.<name>.includeTools / excludeTools", () => {
    const o = Gemini.parse(JSON.parse(renderPolicy(d, "gemini")));
    const s = o.mcpServers["io-example-shop"]!;
    expect(s.includeTools).toContain("list_items");
    expect(s.excludeTools).toEqual(expect.arrayContaining(["delete_item", "mystery", "poisoned_read"]));
    expect(s.includeTools.filter((x) => s.excludeTools.includes(x))).toEqual([]);
  });

  it("VS Code: chat.tools.eligibleForAutoApproval, only allowed tools eligible", () => {
    const o = Vscode.parse(JSON.parse(renderPolicy(d, "vscode")));
    const m = o["chat.tools.eligibleForAutoApproval"];
    expect(m["io-example-shop/list_items"]).toBe(true);
    expect(m["io-example-shop/refund"]).toBe(false);
    expect(m["io-example-shop/delete_item"]).toBe(false);
  });

  it("Intercept YAML: rules, rate_limit, hide, on_deny; '*' only as the wildcard", () => {
    const text = renderPolicy(d, "intercept");
    const o = Intercept.parse(parseYaml(text));
    expect(o.default).toBe("deny");
    expect(o.hide).toEqual(["delete_item", "poisoned_read"]);
    expect(o.tools.list_items!.rules).toEqual([]);
    expect(o.tools.create_item!.rules[0]!.rate_limit).toBe("30/minute");
    expect(o.tools.run_sql!.rules[0]!.rate_limit).toBe("10/minute");
    expect(o.tools.refund!.rules[0]).toMatchObject({ action: "deny", on_deny: expect.stringMatching(/approval/) });
    expect(o.tools.mystery!.rules[0]).toMatchObject({
      action: "deny",
      on_deny: expect.stringMatching(/not classified/i),
    });
    expect(o.tools["*"]!.rules[0]!.rate_limit).toBe("120/minute");
    // Written as a plain key (readers differ in what they make of it; Go's yaml.v3 keeps it as a string key).
    expect(text).toMatch(/^ {2}__proto__:\n {4}rules: \[\]$/m);
    expect(text).not.toMatch(/^ {2}"?\*"?:\n {4}rules: \[\]$/m);
  });

  it("policy.json keeps a tool named __proto__ as a plain key", () => {
    const o = JSON.parse(renderPolicy(d, "policy.json"));
    expect(Object.hasOwn(o.tools, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(o.tools)).toBe(Object.prototype);
  });

  it("ruleForTool gives one tool's snippet in every format", () => {
    for (const f of POLICY_FORMATS) {
      const s = ruleForTool(d, "refund", f);
      expect(s.endsWith("\n")).toBe(true);
      expect(s).toContain("refund");
      expect(s).not.toContain("list_items");
    }
    expect(ruleForTool(d, "no_such_tool", "policy.json")).toBe("");
  });
});

describe("determinism", () => {
  it("same input gives byte-identical output in every format, whatever the input order", () => {
    const tools = devTools()
      .filter((t) => t.server === "paypal/agent-toolkit" || t.server === "mcp-server-git")
      .map((t) => ({ name: t.tool, classification: testClassification(t) }));
    const a = decidePolicy({ name: "s", slug: "s" }, tools);
    const b = decidePolicy({ name: "s", slug: "s" }, [...tools].reverse());
    for (const f of POLICY_FORMATS) {
      const x = renderPolicy(a, f);
      expect(renderPolicy(b, f)).toBe(x);
      expect(renderPolicy(structuredClone(a), f)).toBe(x);
      expect(x).not.toMatch(/20\d\d-\d\d-\d\dT/);
    }
    expect(a.tools.map((t) => t.tool)).toEqual([...a.tools.map((t) => t.tool)].sort());
  });
});
