import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { sandboxAvailable } from "../../src/mcp/index.js";
import { tempDir } from "../fixtures/configs/policy-test-kit.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const FIX = "test/fixtures/configs";
const SECRETS = [
  "sk_live_FIXTURE_SECRET_shop_51HxQ",
  "ghp_FIXTURE_SECRET_arg_9f8e7d",
  "xoxb-FIXTURE-SECRET-shell-4242",
  "FIXTURE_SECRET_dbpass_777",
  "FIXTURE_SECRET_service_key_abc",
  "FIXTURE_SECRET_header_token_xyz",
];
let dir: string;

/** Runs the scan command as a real process (sandboxed probes; unsandboxed only where bwrap is missing). */
function scan(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return scanIn(ROOT, {}, ...args);
}

async function scanIn(
  cwd: string,
  extraEnv: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ code: number | null; out: string; err: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MCP_CENSUS_DEBUG: "",
    MCP_CENSUS_PROBE_TIMEOUT_MS: "20000",
    ...extraEnv,
  };
  if (!(await sandboxAvailable()).ok) env.MCP_CENSUS_ALLOW_UNSANDBOXED = "1";
  return await new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      [
        join(ROOT, "node_modules/tsx/dist/cli.mjs"),
        join(ROOT, FIX, "cli-harness.ts"),
        "--data-dir",
        dir,
        "scan",
        ...args,
      ],
      { cwd, env },
    );
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => resolve({ code, out, err }));
  });
}

function filesUnder(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

beforeAll(() => {
  dir = tempDir("scan-");
});
afterAll(() => {
  // Nothing the scan wrote may hold a secret from the configs.
  for (const f of filesUnder(dir)) {
    const text = readFileSync(f, "latin1");
    for (const s of SECRETS) expect(text.includes(s), `${f} holds a secret`).toBe(false);
  }
});

const noSecrets = (...texts: string[]) => {
  for (const t of texts) for (const s of SECRETS) expect(t).not.toContain(s);
};

describe("mcp-census scan", () => {
  it("a config with three servers gives three policies", async () => {
    const r = await scan(`${FIX}/claude_desktop_config.json`, "--json");
    expect(r.code, r.err).toBe(0);
    noSecrets(r.out, r.err);
    const j = JSON.parse(r.out);
    expect(j.servers.map((s: { name: string }) => s.name)).toEqual(["notes", "shop", "shell"]);
    expect(j.problems).toEqual([]);
    for (const s of j.servers) {
      expect(s).toMatchObject({ client: "claude-desktop", outcome: "ok", format: "policy.json" });
      const p = JSON.parse(s.policy);
      expect(p).toMatchObject({ version: "1", default: "deny" });
      expect(s.decision.tools.length).toBeGreaterThan(0);
      // Each policy names the server by its key in the scanned config, so the client applies it.
      expect(s.decision.serverKey).toBe(s.name);
    }
    const notes = j.servers[0];
    const act = (t: string) => notes.decision.tools.find((x: { tool: string }) => x.tool === t)?.action;
    expect(act("list_notes")).toBe("allow");
    // The classifier's call, not ours: whatever it decides for delete_note, the policy follows its category.
    const del = notes.decision.tools.find((x: { tool: string }) => x.tool === "delete_note");
    if (del.category === "Destructive") expect(del.action).toBe("hide");
    // shell only starts because SHELL_API_TOKEN was given (a placeholder, not the secret).
    expect(j.servers[2].outcome).toBe("ok");
  });

  it("prints a readable summary and the policy in the client's own format", async () => {
    const r = await scan(`${FIX}/vscode-project/.vscode/mcp.json`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Scanned 1 config file\(s\): 1 server\(s\), 1 listed, 0 problem\(s\)/);
    expect(r.out).toMatch(/notes \(vscode, .*\): 4 tools/);
    expect(r.out).toContain('"chat.tools.eligibleForAutoApproval"');
    // The server's key in that config ("notes"), not a catalog name.
    expect(r.out).toMatch(/"server": "notes"/);
  });

  it("malformed configs, unknown clients, bad entries and failing servers give clear errors; the others are scanned", async () => {
    const sarif = join(dir, "scan.sarif");
    const r = await scan(
      `${FIX}/malformed-config.broken`,
      `${FIX}/unknown-client.json`,
      `${FIX}/cursor-project/.cursor/mcp.json`,
      `${FIX}/claude_desktop_config.json`,
      "--format",
      "intercept",
      "--sarif",
      sarif,
    );
    expect(r.code, r.err).toBe(1);
    noSecrets(r.out, r.err);
    expect(r.out).toMatch(/malformed-config\.broken: malformed config: /);
    expect(r.out).toMatch(/unknown-client\.json: unknown MCP client config: expected `mcpServers`/);
    expect(r.out).toMatch(/no-launch: has neither a command nor a url/);
    expect(r.out).toMatch(/leaky: server failed to start: needs service: needs a running postgres at start/);
    // The careless server echoed its DATABASE_URL: the password is redacted; SERVICE_KEY only ever got a placeholder.
    expect(r.out).toMatch(/\[redacted\]|PLACEHOLDER/);
    expect(r.out).toMatch(/remote-docs: server failed to start/);
    expect(r.out).toMatch(/Scanned 4 config file\(s\): 6 server\(s\), 4 listed/);
    // Every server got an Intercept policy: the four healthy ones their tools', the two that failed a deny-all
    // policy that says why.
    const docs = r.out.split(/--- intercept policy for .* ---\n/).slice(1);
    expect(docs).toHaveLength(6);
    const parsed = docs.map(
      (d) => parseYaml(d.split(/\n\n/)[0]!) as { version: string; default: string; hide: string[] },
    );
    for (const y of parsed) expect(y).toMatchObject({ version: "1", default: "deny" });
    const denied = parsed.filter((y) => y.hide.includes("*"));
    expect(denied).toHaveLength(2);
    for (const y of denied)
      expect((y as unknown as { description: string }).description).toMatch(/could not be listed/);

    // SARIF 2.1.0: a result per tool and per problem, with the config file and line of the server.
    const s = JSON.parse(readFileSync(sarif, "utf8"));
    expect(s.version).toBe("2.1.0");
    const run = s.runs[0];
    expect(run.tool.driver.name).toBe("mcp-census");
    const ruleIds = new Set(run.tool.driver.rules.map((x: { id: string }) => x.id));
    for (const res of run.results) {
      expect(ruleIds.has(res.ruleId)).toBe(true);
      expect(["error", "warning", "note"]).toContain(res.level);
      expect(res.message.text.length).toBeGreaterThan(0);
      expect(res.locations[0].physicalLocation.artifactLocation.uri).toMatch(/\.(json|broken)$/);
    }
    const shop = run.results.find((x: { properties?: { tool: string } }) => x.properties?.tool === "create_refund");
    expect(shop.locations[0].physicalLocation.region.startLine).toBe(7);
    expect(run.results.filter((x: { ruleId: string }) => x.ruleId === "mcp-server-problem").length).toBe(5);
  });

  it("--fail-on sets the CI exit code", { timeout: 180_000 }, async () => {
    const hi = await scan(`${FIX}/vscode-project/.vscode/mcp.json`, "--fail-on", "high", "--quiet");
    expect(hi.code).toBe(5);
    const r = await scan(`${FIX}/vscode-project/.vscode/mcp.json`, "--fail-on", "bogus");
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
  });

  it("a named file that cannot be read is a problem of that file", async () => {
    const r = await scan(join(dir, "does-not-exist.json"));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/does-not-exist\.json: cannot read: ENOENT/);
  });

  it("finds configs in the known locations, and says so in one line when there are none", async () => {
    const home = tempDir("scan-home-");
    const none = await scanIn(home, { HOME: home, APPDATA: home });
    expect(none.code).toBe(3);
    expect(none.err.trim().split("\n")).toHaveLength(1);
    expect(none.err).toMatch(/no MCP client configuration found/);
  });
});
