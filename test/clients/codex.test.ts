// Codex CLI as the oracle: the generated codex config, under the name the user gave the server, loaded by the real
// client offline (CODEX_HOME in a temp folder, a loopback fake OpenAI Responses API). What is checked: the file
// loads as a whole new config and merged into an existing server table with an env sub-table (the two cases that
// failed before), `codex mcp get <name> --json` shows the policy's tool filter, and the model is offered exactly the
// tools the policy enables. Not checked here: what Codex does when the model calls a tool (this fake model's calls
// come back as "unsupported call" from Codex 0.171, so approval prompts are not exercised).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PolicyDecision, renderPolicy } from "../../src/policy/index.js";
import { type FakeModel, startFakeModel } from "./fake-model.js";
import { BIN, cleanEnv, ensureClients, FIXTURE, fixturePolicy, run, TOOL_NAMES, tempHome } from "./harness.js";

let model: FakeModel;
const NAME = "fs";

beforeAll(async () => {
  ensureClients();
  model = await startFakeModel(
    (t) => t.startsWith(`mcp__${NAME}__`),
    () => TOOL_NAMES.map((n) => `mcp__${NAME}__${n}`),
  );
}, 900_000);
afterAll(() => model?.close());

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

async function codex(decision: PolicyDecision, mode: "new" | "merge") {
  const { home, calls } = tempHome("census-codex-");
  const codexHome = join(home, ".codex");
  mkdirSync(codexHome, { recursive: true });
  const policy = renderPolicy(decision, "codex");
  const body =
    mode === "new"
      ? policy.replace(`"<your MCP_CENSUS_CALLS>"`, JSON.stringify(calls))
      : mergeInto(existingConfig(calls), policy);
  writeFileSync(join(codexHome, "config.toml"), `${provider(model.url)}\n${body}`);
  const env = cleanEnv(home, { FAKE_API_KEY: "not-a-key", CODEX_HOME: codexHome });
  const get = await run(BIN("codex"), ["mcp", "get", NAME, "--json"], { cwd: home, env, timeoutMs: 60_000 });
  expect(get.code, get.stderr.slice(-1500)).toBe(0);
  const before = model.offered.length;
  const r = await run(
    BIN("codex"),
    // required: wait for the server before the first turn, so its tools are in the first request.
    ["exec", "--skip-git-repo-check", "-c", `mcp_servers.${NAME}.required=true`, "call every tool"],
    { cwd: home, env, timeoutMs: 150_000 },
  );
  expect(r.code, r.stderr.slice(-1500)).toBe(0);
  expect(model.offered.length, "the fake model was never offered the server's tools").toBeGreaterThan(before);
  const offered = model.offered[model.offered.length - 1]!.filter((t) => t.startsWith(`mcp__${NAME}__`)).sort();
  return {
    get: JSON.parse(get.stdout) as { name: string; enabled_tools: string[]; disabled_tools: string[] },
    offered,
  };
}

describe("Codex loads the codex policy under the user's name (--as fs) and offers only the tools it enables", () => {
  it("balanced, as a new server table and merged into an existing one with an env table", async () => {
    for (const mode of ["new", "merge"] as const) {
      const r = await codex(fixturePolicy(NAME, "balanced"), mode);
      expect(r.get.name).toBe(NAME);
      expect(r.get.enabled_tools).toEqual(["read_file", "run_command", "write_file"]);
      expect(r.get.disabled_tools).toEqual(["delete_file", "mystery"]);
      expect(r.offered, mode).toEqual(["mcp__fs__read_file", "mcp__fs__run_command", "mcp__fs__write_file"]);
    }
  }, 400_000);

  it("strict: only the low-risk read is offered", async () => {
    const r = await codex(fixturePolicy(NAME, "strict"), "merge");
    expect(r.get.enabled_tools).toEqual(["read_file"]);
    expect(r.offered).toEqual(["mcp__fs__read_file"]);
  }, 200_000);
});
