// Gemini CLI as the oracle: the generated gemini (settings.json) and gemini-policy (policy engine TOML) formats, under
// the name the user gave the server, loaded by the real client offline: HOME in a temp folder, a loopback fake Gemini
// API (GOOGLE_GEMINI_BASE_URL) that calls every tool on the first turn, a real fixture MCP server that records the calls
// that reach it. Headless (-p): a tool that would ask is refused ("requires user confirmation").
//
// That a tool really asks (not only that headless Gemini refuses it) is checked in ACP mode (`gemini --acp`, the Agent
// Client Protocol its editor integrations speak): Gemini sends the person `session/request_permission` per call; an
// allowed call reaches the server, a rejected one does not.
//
// Two things make Gemini CLI 0.61 usable here (without them a run hung for minutes): the model is pinned (-m), because
// the default "auto" model first asks a classifier model for a JSON routing verdict and retries with back-off when the
// answer is not one; and the folder is trusted (GEMINI_CLI_TRUST_WORKSPACE), or headless runs stop at once.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type PolicyDecision, type Profile, renderPolicy, ruleForTool } from "../../src/policy/index.js";
import { BIN, cleanEnv, FIXTURE, fixturePolicy, readCalls, run, stdioRpc, tempHome, useFakeModel } from "./harness.js";

const NAME = "fs";
const mcp = (n: string) => `mcp_${NAME}_${n}`;

const fakeModel = useFakeModel(mcp);

type Format = "gemini" | "gemini-policy";

/** A Gemini home with the server under the user's name and the policy in the given format. */
/**
 * The gemini settings built from every tool's own snippet (what the site shows per tool), merged as a user would:
 * the entry's lists joined, `tools.allowed` joined.
 */
function mergedGeminiSnippets(decision: PolicyDecision): { mcpServers: Record<string, object>; tools?: object } {
  const exclude: string[] = [];
  const allowed: string[] = [];
  for (const t of decision.tools) {
    const s = JSON.parse(ruleForTool(decision, t.tool, "gemini")) as {
      mcpServers: Record<string, { excludeTools?: string[]; includeTools?: string[]; trust: boolean }>;
      tools?: { allowed?: string[] };
    };
    const entry = s.mcpServers[NAME]!;
    expect(entry.includeTools, t.tool).toBeUndefined();
    expect(entry.trust).toBe(false);
    exclude.push(...(entry.excludeTools ?? []));
    allowed.push(...(s.tools?.allowed ?? []));
  }
  return { mcpServers: { [NAME]: { excludeTools: exclude, trust: false } }, tools: { allowed } };
}

function geminiHome(decision: PolicyDecision, format: Format, opts: { snippets?: boolean } = {}) {
  const { home, calls } = tempHome("census-gemini-");
  const dir = join(home, ".gemini");
  mkdirSync(join(dir, "policies"), { recursive: true });
  const launch = { command: process.execPath, args: [FIXTURE], env: { MCP_CENSUS_CALLS: calls } };
  // The gemini format is merged into the user's server entry; the policy format goes next to a plain entry.
  const generated =
    format === "gemini"
      ? opts.snippets
        ? mergedGeminiSnippets(decision)
        : (JSON.parse(renderPolicy(decision, "gemini")) as { mcpServers: Record<string, object> })
      : { mcpServers: {} as Record<string, object> };
  const settings = {
    ...generated,
    mcpServers: { [NAME]: { ...launch, ...generated.mcpServers[NAME] } },
    security: { auth: { selectedType: "gemini-api-key" } },
    telemetry: { enabled: false },
    privacy: { usageStatisticsEnabled: false },
    general: { disableAutoUpdate: true, disableUpdateNag: true },
  };
  writeFileSync(join(dir, "settings.json"), JSON.stringify(settings, null, 2));
  if (format === "gemini-policy") {
    // Snippets: every tool's own rule, one after another in the user's policy file.
    const text = opts.snippets
      ? decision.tools.map((t) => ruleForTool(decision, t.tool, "gemini-policy")).join("\n")
      : renderPolicy(decision, "gemini-policy");
    writeFileSync(join(dir, "policies", `mcp-census-${NAME}.toml`), text);
  }
  const env = cleanEnv(home, {
    GEMINI_API_KEY: "not-a-key",
    GOOGLE_GEMINI_BASE_URL: fakeModel().url,
    GEMINI_CLI_TRUST_WORKSPACE: "true",
  });
  return { home, calls, env };
}

async function gemini(
  profile: Profile,
  format: Format,
  opts: { yolo?: boolean; unattended?: boolean; snippets?: boolean } = {},
) {
  const { home, calls, env } = geminiHome(fixturePolicy(NAME, profile, { unattended: opts.unattended }), format, {
    snippets: opts.snippets,
  });
  const before = fakeModel().offered.length;
  const r = await run(
    process.execPath,
    [
      BIN("gemini"),
      "-p",
      "call every tool",
      "--output-format",
      "json",
      "-m",
      "gemini-2.5-pro",
      ...(opts.yolo ? ["--approval-mode", "yolo"] : []),
    ],
    { cwd: home, env, timeoutMs: 90_000 },
  );
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  expect(r.stderr).not.toMatch(/Policy file error|invalid configuration/i);
  // The fake model records a request only when it offered some of the server's tools (then it calls them all).
  const fresh = fakeModel().offered.length > before;
  const offered = fresh
    ? fakeModel()
        .offered[fakeModel().offered.length - 1]!.filter((t) => t.startsWith(`mcp_${NAME}_`))
        .sort()
    : [];
  const results = fresh ? (fakeModel().results[fakeModel().results.length - 1] ?? {}) : {};
  return { offered, results, ...readCalls(calls) };
}

/**
 * The policy in a Gemini home, run in ACP mode for one prompt ("call every tool"): each permission request is answered
 * "Allow" (once) when `approve(tool)` says so, else "Reject". Returns the tools Gemini asked about and the calls that
 * reached the fixture server.
 */
async function geminiAcp(decision: PolicyDecision, format: Format, approve: (tool: string) => boolean) {
  const { home, calls, env } = geminiHome(decision, format);
  const asked: string[] = [];
  const unexpected: string[] = [];
  const rpc = stdioRpc(
    process.execPath,
    [BIN("gemini"), "--acp", "-m", "gemini-2.5-pro"],
    { cwd: home, env, timeoutMs: 90_000 },
    (method, params) => {
      const call = (params.toolCall ?? {}) as { toolCallId?: string };
      const tool = new RegExp(`^mcp_${NAME}_(.+?)__`).exec(call.toolCallId ?? "")?.[1];
      const options = (params.options ?? []) as { optionId: string; kind: string }[];
      if (method !== "session/request_permission" || !tool) {
        unexpected.push(`${method} ${JSON.stringify(params).slice(0, 500)}`);
        return { outcome: { outcome: "cancelled" } };
      }
      asked.push(tool);
      const pick = options.find((o) => o.kind === (approve(tool) ? "allow_once" : "reject_once"));
      return { outcome: { outcome: "selected", optionId: pick?.optionId } };
    },
  );
  try {
    await rpc.request("initialize", {
      protocolVersion: 1,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false } },
    });
    const session = (await rpc.request("session/new", { cwd: home, mcpServers: [] })) as { sessionId: string };
    await rpc.request("session/prompt", {
      sessionId: session.sessionId,
      prompt: [{ type: "text", text: "call every tool" }],
    });
  } finally {
    rpc.close();
  }
  expect(unexpected, "requests other than permission for the server's tools").toEqual([]);
  return { asked: asked.sort(), called: readCalls(calls).called };
}

/** Headless Gemini refuses a tool that would ask with this message (the tool was offered). */
const ASKS = /requires user confirmation, which is not supported in non-interactive mode/;
/** A tool the policy removed is not even known to Gemini when the model calls it. */
const UNKNOWN = /not found/;

describe("Gemini CLI enforces the gemini and gemini-policy formats under the user's name (--as fs)", () => {
  it("loads both formats without error and `gemini mcp list` shows the server under that name", async () => {
    const { home, env } = geminiHome(fixturePolicy(NAME, "balanced"), "gemini-policy");
    // The settings-format entry too, so both files are checked by one listing.
    const settings = JSON.parse(readFileSync(join(home, ".gemini", "settings.json"), "utf8")) as {
      mcpServers: Record<string, object>;
    };
    const entry = JSON.parse(renderPolicy(fixturePolicy(NAME, "balanced"), "gemini")).mcpServers[NAME];
    settings.mcpServers[NAME] = { ...settings.mcpServers[NAME], ...entry };
    writeFileSync(join(home, ".gemini", "settings.json"), JSON.stringify(settings));
    const r = await run(process.execPath, [BIN("gemini"), "mcp", "list"], { cwd: home, env, timeoutMs: 60_000 });
    const out = r.stdout + r.stderr;
    expect(r.code, out.slice(-2000)).toBe(0);
    expect(out).not.toMatch(/Policy file error|invalid configuration|error/i);
    expect(out).toMatch(new RegExp(`✓ ${NAME}: .*fixture-server\\.mjs \\(stdio\\) - Connected`));
    // A broken policy file is reported by the same listing: this check can fail.
    writeFileSync(join(home, ".gemini", "policies", "broken.toml"), '[[rule]]\nmcpName = "fs"\ndecision = "deny"\n');
    const bad = await run(process.execPath, [BIN("gemini"), "mcp", "list"], { cwd: home, env, timeoutMs: 60_000 });
    expect(bad.stdout + bad.stderr).toMatch(/Policy file error in broken\.toml/);
  }, 150_000);

  it("balanced, gemini-policy: the read runs, approval tools are refused headless, destructive and unclassified tools are unknown", async () => {
    const r = await gemini("balanced", "gemini-policy");
    // write_file needs approval too, but Gemini hides an MCP tool whose bare name is one of its own tools switched
    // off headless (its own write_file asks): it is not even offered. Interactively it would ask.
    expect(r.offered).toEqual([mcp("read_file"), mcp("run_command")]);
    expect(r.called).toEqual(["read_file"]);
    expect(r.results[mcp("run_command")]).toMatch(ASKS);
    for (const t of ["write_file", "delete_file", "mystery"]) expect(r.results[mcp(t)], t).toMatch(UNKNOWN);
  }, 150_000);

  it("balanced, gemini settings: the allowed read runs (tools.allowed); trust false keeps the rest from running headless", async () => {
    const r = await gemini("balanced", "gemini");
    // Headless Gemini does not even offer a tool that would ask (trust false without tools.allowed).
    expect(r.offered).toEqual([mcp("read_file")]);
    expect(r.called).toEqual(["read_file"]);
    for (const t of ["write_file", "run_command", "delete_file", "mystery"])
      expect(r.results[mcp(t)], t).toMatch(UNKNOWN);
  }, 150_000);

  it("every tool's own snippet, merged (settings entries joined, rules one after another), enforces as the whole policy does", async () => {
    const policy = await gemini("balanced", "gemini-policy", { snippets: true });
    expect(policy.offered).toEqual([mcp("read_file"), mcp("run_command")]);
    expect(policy.called).toEqual(["read_file"]);
    expect(policy.results[mcp("run_command")]).toMatch(ASKS);
    for (const t of ["write_file", "delete_file", "mystery"]) expect(policy.results[mcp(t)], t).toMatch(UNKNOWN);
    const settings = await gemini("balanced", "gemini", { snippets: true });
    expect(settings.offered).toEqual([mcp("read_file")]);
    expect(settings.called).toEqual(["read_file"]);
    for (const t of ["write_file", "run_command", "delete_file", "mystery"])
      expect(settings.results[mcp(t)], t).toMatch(UNKNOWN);
  }, 200_000);

  it("strict: only the low-risk read is offered and runs (gemini-policy; gemini settings, also under yolo)", async () => {
    const policy = await gemini("strict", "gemini-policy");
    expect(policy.offered).toEqual([mcp("read_file")]);
    expect(policy.called).toEqual(["read_file"]);
    const headless = await gemini("strict", "gemini");
    expect(headless.offered).toEqual([mcp("read_file")]);
    expect(headless.called).toEqual(["read_file"]);
    const settings = await gemini("strict", "gemini", { yolo: true });
    expect(settings.offered).toEqual([mcp("read_file")]);
    expect(settings.called).toEqual(["read_file"]);
  }, 200_000);

  it("asks a person (ACP) for exactly the approval tools, in both formats: allowed runs, rejected does not; strict asks nothing", async () => {
    for (const format of ["gemini-policy", "gemini"] as const) {
      const r = await geminiAcp(fixturePolicy(NAME, "balanced"), format, (tool) => tool === "write_file");
      expect(r.asked, format).toEqual(["run_command", "write_file"]);
      expect(r.called, format).toEqual(["read_file", "write_file"]);
    }
    const strict = await geminiAcp(fixturePolicy(NAME, "strict"), "gemini-policy", () => true);
    expect(strict.asked).toEqual([]);
    expect(strict.called).toEqual(["read_file"]);
  }, 250_000);

  it("--approval-mode yolo: gemini-policy keeps refusing approval tools; the settings format needs --unattended", async () => {
    const policy = await gemini("balanced", "gemini-policy", { yolo: true });
    expect(policy.offered).toEqual([mcp("read_file"), mcp("run_command"), mcp("write_file")]);
    expect(policy.called).toEqual(["read_file"]);
    expect(policy.results[mcp("run_command")]).toMatch(ASKS);
    expect(policy.results[mcp("write_file")]).toMatch(ASKS);
    // The settings format cannot ask under yolo: what it includes runs (the limit the README states), what it
    // excludes is not offered ...
    const settings = await gemini("balanced", "gemini", { yolo: true });
    expect(settings.offered).toEqual([mcp("read_file"), mcp("run_command"), mcp("write_file")]);
    expect(settings.called).toEqual(["read_file", "run_command", "write_file"]);
    for (const t of ["delete_file", "mystery"]) expect(settings.results[mcp(t)], t).toMatch(UNKNOWN);
    // ... so --unattended leaves out what would ask (approval and rate-limited tools).
    const unattended = await gemini("balanced", "gemini", { yolo: true, unattended: true });
    expect(unattended.offered).toEqual([mcp("read_file")]);
    expect(unattended.called).toEqual(["read_file"]);
  }, 250_000);
});
