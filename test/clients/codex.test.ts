// Codex CLI as the oracle: the generated codex config, under the name the user gave the server, loaded by the real
// client offline (CODEX_HOME in a temp folder, a loopback fake OpenAI Responses API that calls every tool on the
// first turn, a real fixture MCP server that records the calls that reach it). What is checked: the file loads as a
// whole new config and merged into an existing server table with an env sub-table (the two cases that failed
// before), `codex mcp get <name> --json` shows the policy's tool filter, the model is offered exactly the tools the
// policy enables, and when the model calls every tool: allowed tools reach the server, approval tools are refused
// (`codex exec` runs with approval "never", so a tool that would ask is refused), disabled tools are unknown.
// Codex calls an MCP tool by its name inside the `mcp__<server>` namespace it offers it in; the fake model answers so.
// That a tool really asks (not only that exec refuses it) is checked through `codex app-server`, the JSON-RPC protocol
// Codex's IDE extension and desktop app speak: Codex sends the person an approval request per call
// (`mcpServer/elicitation/request`, `codex_approval_kind: "mcp_tool_call"`); an accepted call reaches the server, a
// declined one does not.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type PolicyDecision, renderPolicy, ruleForTool } from "../../src/policy/index.js";
import { BIN, cleanEnv, FIXTURE, fixturePolicy, readCalls, run, stdioRpc, tempHome, useFakeModel } from "./harness.js";

const NAME = "fs";

const fakeModel = useFakeModel((n) => `mcp__${NAME}__${n}`);

const provider = (url: string) =>
  [
    `model = "gpt-5"`,
    `model_provider = "fake"`,
    "",
    "[model_providers.fake]",
    `name = "fake"`,
    `base_url = "${url}/v1"`,
    `env_key = "FAKE_API_KEY"`,
    `wire_api = "responses"`,
    "",
  ].join("\n");

/** The user's config when the server is already there: a table and an env sub-table (as `codex mcp add --env` writes). */
function existingConfig(calls: string): string {
  return [
    `[mcp_servers.${NAME}]`,
    `command = ${JSON.stringify(process.execPath)}`,
    `args = [${JSON.stringify(FIXTURE)}]`,
    "",
    `[mcp_servers.${NAME}.env]`,
    `MCP_CENSUS_CALLS = ${JSON.stringify(calls)}`,
    "",
  ].join("\n");
}

/** Merges the policy into an existing config as its header says: its lines into the table, its tool tables after. */
function mergeInto(existing: string, policy: string): string {
  const lines = policy
    .split("\n")
    .filter((l) => l.startsWith("#   "))
    .map((l) => l.slice(4));
  const at = policy.indexOf(`\n[mcp_servers.${NAME}.tools.`);
  const merged = existing.replace(`[mcp_servers.${NAME}]\n`, `[mcp_servers.${NAME}]\n${lines.join("\n")}\n`);
  return at >= 0 ? `${merged}\n${policy.slice(at + 1)}` : merged;
}

/**
 * Merges every tool's own snippet (what the site shows per tool) into an existing config as each one says: the
 * `[…tools.<tool>]` tables appended, the tools it says to disable collected into the table's `disabled_tools`.
 */
function mergeSnippets(existing: string, decision: PolicyDecision): string {
  const snippets = decision.tools.map((t) => ruleForTool(decision, t.tool, "codex"));
  const disabled = snippets.flatMap((s) => /^# {3}disabled_tools = \[(.*)\]$/m.exec(s)?.[1] ?? []);
  const tables = snippets.flatMap((s) => {
    const at = s.indexOf(`\n[mcp_servers.${NAME}.tools.`);
    return at >= 0 ? [s.slice(at + 1)] : [];
  });
  const header = `[mcp_servers.${NAME}]\n`;
  return `${existing.replace(header, `${header}disabled_tools = [${disabled.join(", ")}]\n`)}\n${tables.join("\n")}`;
}

async function codex(decision: PolicyDecision, mode: "new" | "merge" | "snippets", opts: { bypass?: boolean } = {}) {
  const { home, calls } = tempHome("census-codex-");
  const codexHome = join(home, ".codex");
  mkdirSync(codexHome, { recursive: true });
  const policy = renderPolicy(decision, "codex");
  const body =
    mode === "new"
      ? policy.replace(`"<your MCP_CENSUS_CALLS>"`, JSON.stringify(calls))
      : mode === "merge"
        ? mergeInto(existingConfig(calls), policy)
        : mergeSnippets(existingConfig(calls), decision);
  writeFileSync(join(codexHome, "config.toml"), `${provider(fakeModel().url)}\n${body}`);
  const env = cleanEnv(home, { FAKE_API_KEY: "not-a-key", CODEX_HOME: codexHome });
  const get = await run(BIN("codex"), ["mcp", "get", NAME, "--json"], { cwd: home, env, timeoutMs: 60_000 });
  expect(get.code, get.stderr.slice(-1500)).toBe(0);
  const before = fakeModel().offered.length;
  const r = await run(
    BIN("codex"),
    [
      "exec",
      "--skip-git-repo-check",
      ...(opts.bypass ? ["--dangerously-bypass-approvals-and-sandbox"] : []),
      // required: wait for the server before the first turn, so its tools are in the first request.
      "-c",
      `mcp_servers.${NAME}.required=true`,
      "call every tool",
    ],
    { cwd: home, env, timeoutMs: 150_000 },
  );
  expect(r.code, r.stderr.slice(-1500)).toBe(0);
  expect(fakeModel().offered.length, "the fake model was never offered the server's tools").toBeGreaterThan(before);
  const offered = fakeModel()
    .offered[fakeModel().offered.length - 1]!.filter((t) => t.startsWith(`mcp__${NAME}__`))
    .sort();
  // What Codex sent back for each call, by tool (the fake model names call ids call_<n>_<tool>).
  const results = Object.fromEntries(
    Object.entries(fakeModel().results[fakeModel().results.length - 1] ?? {}).map(([id, out]) => [
      id.replace(/^call_\d+_/, ""),
      out,
    ]),
  );
  return {
    get: JSON.parse(get.stdout) as { name: string; enabled_tools: string[]; disabled_tools: string[] },
    offered,
    results,
    ...readCalls(calls),
  };
}

/**
 * The policy in a new CODEX_HOME under `codex app-server`: starts a thread that asks on request, runs one turn ("call
 * every tool") and answers each approval request Codex sends with `approve(tool)`. Returns the tools Codex asked
 * about and the calls that reached the fixture server.
 */
async function codexAppServer(decision: PolicyDecision, approve: (tool: string) => boolean) {
  const { home, calls } = tempHome("census-codex-app-");
  const codexHome = join(home, ".codex");
  mkdirSync(codexHome, { recursive: true });
  const policy = renderPolicy(decision, "codex").replace(`"<your MCP_CENSUS_CALLS>"`, JSON.stringify(calls));
  writeFileSync(join(codexHome, "config.toml"), `${provider(fakeModel().url)}\n${policy}`);
  const env = cleanEnv(home, { FAKE_API_KEY: "not-a-key", CODEX_HOME: codexHome });
  const asked: string[] = [];
  const unexpected: string[] = [];
  const rpc = stdioRpc(
    BIN("codex"),
    ["app-server", "-c", `mcp_servers.${NAME}.required=true`],
    { cwd: home, env },
    (method, params) => {
      // A request to the person: only approvals of the server's tool calls are expected here.
      const meta = (params._meta ?? {}) as { codex_approval_kind?: string; tool_name?: string };
      const ok =
        method === "mcpServer/elicitation/request" &&
        meta.codex_approval_kind === "mcp_tool_call" &&
        params.serverName === NAME &&
        typeof meta.tool_name === "string";
      if (ok) asked.push(meta.tool_name!);
      else unexpected.push(`${method} ${JSON.stringify(params).slice(0, 500)}`);
      return { action: ok && approve(meta.tool_name!) ? "accept" : "decline", content: {} };
    },
  );
  try {
    await rpc.request("initialize", { clientInfo: { name: "mcp-census-test", version: "1" } });
    rpc.notify("initialized");
    const thread = (await rpc.request("thread/start", { approvalPolicy: "on-request", cwd: home })) as {
      thread: { id: string };
    };
    const input = [{ type: "text", text: "call every tool" }];
    await rpc.request("turn/start", { threadId: thread.thread.id, input });
    await rpc.notification("turn/completed");
  } finally {
    rpc.close();
  }
  expect(unexpected, "requests other than MCP tool approvals").toEqual([]);
  return { called: readCalls(calls).called, asked: asked.sort() };
}

const mcp = (t: string) => `mcp__${NAME}__${t}`;
/** Codex exec refuses a call that would ask (its approval policy there is "never"). */
const ASKS = /requires approval, but approval policy is never/;
/** A tool the policy disabled is not known to Codex when the model calls it. */
const UNKNOWN = /unsupported call/;

describe("Codex enforces the codex policy under the user's name (--as fs)", () => {
  it("balanced, as a new server table and merged into an existing one with an env table", async () => {
    for (const mode of ["new", "merge"] as const) {
      const r = await codex(fixturePolicy(NAME, "balanced"), mode);
      expect(r.get.name).toBe(NAME);
      expect(r.get.enabled_tools).toEqual(["read_file", "run_command", "write_file"]);
      expect(r.get.disabled_tools).toEqual(["delete_file", "mystery"]);
      expect(r.offered, mode).toEqual([mcp("read_file"), mcp("run_command"), mcp("write_file")]);
      // The allowed read runs without asking (approval_mode "approve"; Codex's default would ask for it) ...
      expect(r.called, mode).toEqual(["read_file"]);
      // ... the limited write and the execution ask (refused: nobody to ask), the rest is unknown.
      expect(r.results[mcp("write_file")], mode).toMatch(ASKS);
      expect(r.results[mcp("run_command")], mode).toMatch(ASKS);
      expect(r.results[mcp("delete_file")], mode).toMatch(UNKNOWN);
      expect(r.results[mcp("mystery")], mode).toMatch(UNKNOWN);
    }
  }, 200_000);

  it("every tool's own snippet, merged into an existing table, gives the whole policy's enforcement (no one-tool allowlist)", async () => {
    const r = await codex(fixturePolicy(NAME, "balanced"), "snippets");
    expect(r.get.enabled_tools ?? null).toBeNull();
    expect(r.get.disabled_tools).toEqual(["delete_file", "mystery"]);
    expect(r.offered).toEqual([mcp("read_file"), mcp("run_command"), mcp("write_file")]);
    expect(r.called).toEqual(["read_file"]);
    expect(r.results[mcp("write_file")]).toMatch(ASKS);
    expect(r.results[mcp("run_command")]).toMatch(ASKS);
    expect(r.results[mcp("delete_file")]).toMatch(UNKNOWN);
    expect(r.results[mcp("mystery")]).toMatch(UNKNOWN);
  }, 150_000);

  it("strict: only the low-risk read is offered and runs", async () => {
    const r = await codex(fixturePolicy(NAME, "strict"), "merge");
    expect(r.get.enabled_tools).toEqual(["read_file"]);
    expect(r.offered).toEqual([mcp("read_file")]);
    expect(r.called).toEqual(["read_file"]);
    for (const t of ["write_file", "run_command", "delete_file", "mystery"])
      expect(r.results[mcp(t)], t).toMatch(UNKNOWN);
  }, 150_000);

  it("asks a person (codex app-server) for exactly the limited and approval tools: accepted runs, declined does not", async () => {
    const balanced = await codexAppServer(fixturePolicy(NAME, "balanced"), (tool) => tool === "write_file");
    expect(balanced.asked).toEqual(["run_command", "write_file"]);
    expect(balanced.called).toEqual(["read_file", "write_file"]);
    const strict = await codexAppServer(fixturePolicy(NAME, "strict"), () => true);
    expect(strict.asked).toEqual([]);
    expect(strict.called).toEqual(["read_file"]);
  }, 300_000);

  it("--dangerously-bypass-approvals-and-sandbox runs approval tools unless the policy is --unattended", async () => {
    // Under bypass Codex asks nobody: "prompt" tools run (the limit the README states); disabled tools still do not.
    const bypass = await codex(fixturePolicy(NAME, "balanced"), "new", { bypass: true });
    expect(bypass.called).toEqual(["read_file", "run_command", "write_file"]);
    const unattended = await codex(fixturePolicy(NAME, "balanced", { unattended: true }), "new", { bypass: true });
    expect(unattended.offered).toEqual([mcp("read_file")]);
    expect(unattended.called).toEqual(["read_file"]);
  }, 200_000);
});
