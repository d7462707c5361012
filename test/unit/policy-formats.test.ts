import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Classification } from "../../src/core/types.js";
import {
  decidePolicy,
  GEMINI_NAME_LIMIT,
  nameWarnings,
  POLICY_FORMATS,
  type PolicyDecision,
  parseServerName,
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
    z.strictObject({
      includeTools: z.array(z.string()).optional(),
      excludeTools: z.array(z.string()).optional(),
      trust: z.literal(false),
      description: z.string().optional(),
    }),
  ),
  mcp: z.strictObject({ excluded: z.array(z.string()) }).optional(),
  tools: z.strictObject({ allowed: z.array(z.string().regex(/^mcp_[A-Za-z0-9-]+_/)) }).optional(),
});
// VS Code looks the setting up by the bare tool name.
const Vscode = z.object({
  "chat.tools.eligibleForAutoApproval": z.record(z.string(), z.literal(false)),
});
// Gemini CLI policy engine (docs/reference/policy-engine.md): [[rule]] with mcpName, toolName, decision, priority.
const GeminiRule = z.strictObject({
  mcpName: z.string(),
  toolName: z.union([z.string(), z.array(z.string())]).optional(),
  decision: z.enum(["allow", "deny", "ask_user"]),
  priority: z.number().int().min(0).max(999),
  denyMessage: z.string().optional(),
});
const GeminiPolicy = z.strictObject({ rule: z.array(GeminiRule) });
// Intercept (PolicyLayer/Intercept POLICY.md): version "1", default allow|deny, hide list, tools.<name>.rules[] where
// each rule has a name; action evaluate|deny; deny rules have no conditions; rate_limit is N/minute|hour|day.
const InterceptRule = z
  .strictObject({
    name: z.string().min(1),
    action: z.enum(["evaluate", "deny", "require_approval"]).optional(),
    rate_limit: z
      .string()
      .regex(/^[1-9]\d*\/(minute|hour|day)$/)
      .optional(),
    on_deny: z.string().optional(),
  })
  .refine((r) => !(r.action === "deny" && r.rate_limit), "rate_limit cannot go with action deny")
  .refine((r) => r.action !== "evaluate" || r.rate_limit, "evaluate rules need conditions (or rate_limit)")
  .refine((r) => r.action !== undefined || r.rate_limit, "rules without an action need conditions (or rate_limit)");
const Intercept = z.strictObject({
  version: z.literal("1"),
  description: z.string().optional(),
  default: z.enum(["allow", "deny"]),
  hide: z.array(z.string().min(1)),
  tools: z.record(z.string(), z.strictObject({ rules: z.array(InterceptRule) })),
});

describe("every format has its documented shape", () => {
  const d = sample();

  it("Claude Code: permissions allow / ask / deny with mcp__<server>__<tool>", () => {
    const o = ClaudeCode.parse(JSON.parse(renderPolicy(d, "claude-code")));
    expect(o.permissions.allow).toContain("mcp__shop__list_items");
    expect(o.permissions.ask).toEqual(
      expect.arrayContaining(["mcp__shop__refund", "mcp__shop__create_item", "mcp__shop__dump_env"]),
    );
    expect(o.permissions.deny).toEqual(expect.arrayContaining(["mcp__shop__delete_item", "mcp__shop__mystery"]));
    const all = [...o.permissions.allow, ...o.permissions.ask, ...o.permissions.deny];
    expect(new Set(all).size).toBe(all.length);
    // Hostile names never reach allow or ask.
    expect(o.permissions.allow.some((n) => n.includes("evil") || n.endsWith("__*"))).toBe(false);
  });

  it("Cursor: mcpAllowlist of server:tool, only allowed tools", () => {
    const o = Cursor.parse(JSON.parse(renderPolicy(d, "cursor")));
    expect(o.mcpAllowlist).toEqual(["shop:__proto__", "shop:list_items", "shop:with.dot"]);
  });

  it("Codex: [mcp_servers.<name>] with enabled_tools / disabled_tools, valid TOML strings", () => {
    const text = renderPolicy(d, "codex");
    const t = parseToml(text) as { mcp_servers: Record<string, Record<string, unknown> & { tools?: object }> };
    const server = t.mcp_servers.shop!;
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
    expect(server.tools).toMatchObject({
      refund: { approval_mode: "prompt" },
      dump_env: { approval_mode: "prompt" },
      create_item: { approval_mode: "prompt" },
      // allowed: runs without asking (Codex's default asks for any tool not annotated read-only)
      list_items: { approval_mode: "approve" },
      "with.dot": { approval_mode: "approve" },
    });
    // denied tools get no table that could approve them
    expect(server.tools).not.toHaveProperty("delete_item");
    expect(server.tools).not.toHaveProperty("mystery");
    expect(text).not.toMatch(/^# injected/m);
  });

  it("Gemini CLI: mcpServers.<name>.includeTools / excludeTools, trust false", () => {
    const o = Gemini.parse(JSON.parse(renderPolicy(d, "gemini")));
    const s = o.mcpServers.shop!;
    expect(s.trust).toBe(false);
    expect(s.includeTools).toContain("list_items");
    expect(s.excludeTools).toEqual(expect.arrayContaining(["delete_item", "mystery", "poisoned_read"]));
    expect(s.includeTools!.filter((x) => s.excludeTools!.includes(x))).toEqual([]);
    // allowed tools (and only those) skip the confirmation
    expect(o.tools?.allowed).toContain("mcp_shop_list_items");
    expect(o.tools?.allowed).not.toContain("mcp_shop_create_item");
    expect(o.tools?.allowed).not.toContain("mcp_shop_delete_item");
  });

  it("Gemini policy engine: a server-wide deny under per-tool allow / ask_user / deny rules", () => {
    const o = GeminiPolicy.parse(parseToml(renderPolicy(d, "gemini-policy")));
    const byDecision = (x: string) =>
      o.rule
        .slice(1)
        .filter((r) => r.decision === x)
        .flatMap((r) => [r.toolName].flat());
    expect(o.rule[0]).toMatchObject({ mcpName: "shop", decision: "deny", toolName: "*" });
    expect(o.rule.every((r) => r.mcpName === "shop")).toBe(true);
    expect(byDecision("allow")).toEqual(["__proto__", "list_items", "with.dot"]);
    expect(byDecision("ask_user").sort()).toEqual(["create_item", "dump_env", "refund", "run_sql"]);
    expect(byDecision("deny")).toEqual(expect.arrayContaining(["delete_item", "mystery", "*", "poisoned_read"]));
    const tool = o.rule.slice(1);
    expect(Math.min(...tool.map((r) => r.priority))).toBeGreaterThan(o.rule[0]!.priority);
  });

  it("VS Code: chat.tools.eligibleForAutoApproval by bare tool name, false for every tool not allowed", () => {
    const o = Vscode.parse(JSON.parse(renderPolicy(d, "vscode")));
    const m = o["chat.tools.eligibleForAutoApproval"];
    expect(m.list_items).toBeUndefined();
    expect(m.refund).toBe(false);
    expect(m.delete_item).toBe(false);
    expect(m.create_item).toBe(false);
    expect(JSON.parse(renderPolicy(d, "vscode")).mcpCensus.note).toMatch(/across all servers/);
  });

  it("Intercept YAML: rules, rate_limit, hide, on_deny; '*' only as the wildcard", () => {
    const text = renderPolicy(d, "intercept");
    const o = Intercept.parse(parseYaml(text));
    expect(o.default).toBe("deny");
    expect(o.hide).toEqual(["delete_item", "poisoned_read"]);
    expect(o.tools.list_items!.rules).toEqual([]);
    expect(o.tools.create_item!.rules[0]!.rate_limit).toBe("30/minute");
    expect(o.tools.run_sql!.rules[0]!.rate_limit).toBe("10/minute");
    expect(o.tools.refund!.rules[0]).toMatchObject({
      action: "require_approval",
      on_deny: expect.stringMatching(/approval/),
    });
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

  it("ruleForTool gives one tool's snippet in every format, never an allowlist", () => {
    for (const f of POLICY_FORMATS) {
      for (const tool of ["refund", "delete_item"]) {
        const s = ruleForTool(d, tool, f);
        expect(s.endsWith("\n")).toBe(true);
        // Gemini settings have nothing to say for a tool that asks (trust: false already makes Gemini confirm).
        if (f !== "gemini" || tool === "delete_item") expect(s, `${f} ${tool}`).toContain(tool);
        expect(s).not.toContain("list_items");
      }
      for (const tool of ["list_items", "refund", "delete_item"]) {
        const s = ruleForTool(d, tool, f);
        // A one-tool allowlist would switch every other tool of the server off.
        expect(s, `${f} ${tool}`).not.toMatch(/^\s*enabled_tools\s*=/m);
        expect(s, `${f} ${tool}`).not.toMatch(/includeTools/);
        // Cursor: pasted over permissions.json, a one-tool mcpAllowlist would replace the user's whole list.
        expect(s, `${f} ${tool}`).not.toMatch(/"mcpAllowlist"/);
        expect(s, `${f} ${tool}`).not.toMatch(/"default"|^default:/m);
        if (f === "codex" || f === "gemini-policy") parseToml(s);
        else if (f === "intercept") parseYaml(s);
        else JSON.parse(s);
      }
    }
    expect(ruleForTool(d, "no_such_tool", "policy.json")).toBe("");
    // An allowed tool's snippet says how it runs without asking, where the client needs that said.
    const key = d.serverKey;
    expect(JSON.parse(ruleForTool(d, "list_items", "gemini")).tools.allowed).toEqual([`mcp_${key}_list_items`]);
    expect(JSON.parse(ruleForTool(d, "list_items", "cursor")).mcpCensus.addToMcpAllowlist).toEqual([
      `${key}:list_items`,
    ]);
    expect(JSON.parse(ruleForTool(d, "delete_item", "cursor")).mcpCensus.note).toMatch(/cursor-hook/);
  });

  it("--as: every format names the server as the user does", () => {
    const fs = decidePolicy(
      { name: "io.github.modelcontextprotocol/server-filesystem", slug: "io-github-x" },
      [
        { name: "read_file", classification: cls("Read", "low") },
        { name: "write_file", classification: cls("Write", "medium") },
      ],
      { serverKey: "fs" },
    );
    expect(JSON.parse(renderPolicy(fs, "claude-code")).permissions.allow).toEqual(["mcp__fs__read_file"]);
    expect(JSON.parse(renderPolicy(fs, "cursor")).mcpAllowlist).toEqual(["fs:read_file"]);
    expect(Object.keys(JSON.parse(renderPolicy(fs, "gemini")).mcpServers)).toEqual(["fs"]);
    expect(Object.keys((parseToml(renderPolicy(fs, "codex")) as { mcp_servers: object }).mcp_servers)).toEqual(["fs"]);
    expect(GeminiPolicy.parse(parseToml(renderPolicy(fs, "gemini-policy"))).rule.every((r) => r.mcpName === "fs")).toBe(
      true,
    );
    expect(JSON.parse(renderPolicy(fs, "vscode")).mcpCensus.server).toBe("fs");
    for (const f of POLICY_FORMATS) expect(renderPolicy(fs, f)).not.toContain("io-github-x");
  });

  it("without --as the server is named as users name it (its short name), not by the catalog slug", () => {
    const tools = [{ name: "read_file", classification: cls("Read", "low") }];
    const key = (name: string) => decidePolicy({ name, slug: "io-github-x" }, tools).serverKey;
    expect(key("io.github.modelcontextprotocol/server-filesystem")).toBe("filesystem");
    expect(key("@modelcontextprotocol/server-github")).toBe("github");
    expect(key("io.github.someone/weather-mcp")).toBe("weather");
    expect(key("mcp_server_fetch")).toBe("fetch");
    const d = decidePolicy({ name: "io.github.modelcontextprotocol/server-filesystem", slug: "io-github-x" }, tools);
    expect(JSON.parse(renderPolicy(d, "claude-code")).permissions.allow).toEqual(["mcp__filesystem__read_file"]);
  });

  it("a server whose tools could not be listed is denied whole in every format, with the reason", () => {
    const u = decidePolicy({ name: "io.example/broken", slug: "io-example-broken" }, [], {
      serverKey: "broken",
      unlisted: "spawn failed: ENOENT",
    });
    expect(JSON.parse(renderPolicy(u, "claude-code")).permissions).toEqual({
      allow: [],
      ask: [],
      deny: ["mcp__broken"],
    });
    const codex = parseToml(renderPolicy(u, "codex")) as { mcp_servers: { broken: { enabled_tools: string[] } } };
    expect(codex.mcp_servers.broken.enabled_tools).toEqual([]);
    expect(JSON.parse(renderPolicy(u, "gemini")).mcp.excluded).toEqual(["broken"]);
    const gp = GeminiPolicy.parse(parseToml(renderPolicy(u, "gemini-policy")));
    expect(gp.rule).toEqual([expect.objectContaining({ mcpName: "broken", decision: "deny" })]);
    expect(gp.rule[0]!.denyMessage).toMatch(/ENOENT/);
    expect(Intercept.parse(parseYaml(renderPolicy(u, "intercept"))).hide).toEqual(["*"]);
    expect(JSON.parse(renderPolicy(u, "cursor")).mcpAllowlist).toBeUndefined();
    // Claude Code settings have no place for a reason; every other format says why.
    for (const f of POLICY_FORMATS.filter((x) => x !== "claude-code")) expect(renderPolicy(u, f), f).toMatch(/ENOENT/);
  });

  it("Codex says which tools it runs without asking under --dangerously-bypass-approvals-and-sandbox", () => {
    expect(renderPolicy(d, "codex")).toMatch(/^# .*--dangerously-bypass-approvals-and-sandbox.*\n# .*--unattended/m);
    // Nothing asks (only reads): nothing to say.
    const reads = [{ name: "list_items", classification: cls("Read", "low") }];
    expect(renderPolicy(decidePolicy({ name: "s", slug: "s" }, reads), "codex")).not.toMatch(/bypass/);
  });

  it("unattended: approval and rate-limited tools are denied, not asked", () => {
    const tools = [
      { name: "refund", classification: cls("Financial", "critical") },
      { name: "update_item", classification: cls("Write", "medium") },
      { name: "list_items", classification: cls("Read", "low") },
    ];
    expect(decidePolicy({ name: "s", slug: "s" }, tools).tools.find((t) => t.tool === "update_item")?.action).toBe(
      "limit",
    );
    const u = decidePolicy({ name: "s", slug: "s" }, tools, { unattended: true });
    expect(u.tools.find((t) => t.tool === "refund")).toMatchObject({
      action: "deny",
      reason: expect.stringMatching(/unattended/),
    });
    const limited = u.tools.find((t) => t.tool === "update_item")!;
    expect(limited).toMatchObject({ action: "deny", reason: expect.stringMatching(/cannot count calls/) });
    expect(limited.limit).toBeUndefined();
    expect(JSON.parse(renderPolicy(u, "claude-code")).permissions.deny).toEqual([
      "mcp__s__refund",
      "mcp__s__update_item",
    ]);
  });
});

describe("client name limits (--as)", () => {
  const tools = [
    { name: "read_text_file", classification: cls("Read", "low") },
    { name: "list_directory_with_sizes_and_hidden_entries", classification: cls("Read", "low") },
  ];
  const server = { name: "io.github.modelcontextprotocol/server-filesystem", slug: "x" };
  // Gemini CLI 0.61 (generateValidName): mcp_<server>_<tool> longer than 63 characters is cut to first30...last30.
  const geminiName = (key: string, tool: string) => `mcp_${key}_${tool}`;

  it("warns when Gemini would truncate mcp_<name>_<tool>, and the suggested --as fits every tool", () => {
    expect(GEMINI_NAME_LIMIT).toBe(63);
    const long = decidePolicy(server, tools, { serverKey: "io-github-modelcontextprotocol-server-filesystem" });
    const [w, ...rest] = nameWarnings(long);
    expect(rest).toEqual([]);
    expect(w).toMatch(/^gemini: 2 tool name\(s\) exceed Gemini CLI's 64-character limit/);
    expect(w).toContain("(e.g. list_directory_with_sizes_and_hidden_entries)");
    // A name people would use: the server's short name, not a cut-off prefix.
    expect(w).toMatch(/use a server name of at most 14 characters \(e\.g\. --as filesystem\)$/);
    const suggested = /--as ([A-Za-z0-9_-]+)/.exec(w!)![1]!;
    expect(parseServerName(suggested)).toBe(suggested);
    for (const t of tools) expect(geminiName(suggested, t.name).length).toBeLessThanOrEqual(GEMINI_NAME_LIMIT);
    expect(nameWarnings(decidePolicy(server, tools, { serverKey: suggested }))).toEqual([]);
    // Exactly at the limit is fine; one more character is not.
    const tool = "list_directory_with_sizes_and_hidden_entries";
    const fits = "x".repeat(GEMINI_NAME_LIMIT - geminiName("", tool).length);
    expect(nameWarnings(decidePolicy(server, tools, { serverKey: fits }))).toEqual([]);
    expect(nameWarnings(decidePolicy(server, tools, { serverKey: `${fits}x` }))).toHaveLength(1);
  });

  it("says when the tool names alone are too long for any server name", () => {
    const huge = [{ name: "t".repeat(70), classification: cls("Read", "low") }];
    expect(nameWarnings(decidePolicy(server, huge, { serverKey: "fs" }))[0]).toMatch(
      /the tool names alone are too long \(70 characters\)/,
    );
  });

  it("warns about '_' in the name (Gemini splits mcp_<server>_<tool> at it) and suggests '-'", () => {
    const w = nameWarnings(decidePolicy(server, tools.slice(0, 1), { serverKey: "my_fs" }));
    expect(w).toEqual([expect.stringMatching(/splits mcp_<server>_<tool> at the first "_".*--as my-fs\)/)]);
    expect(nameWarnings(decidePolicy(server, tools.slice(0, 1), { serverKey: "fs" }))).toEqual([]);
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
