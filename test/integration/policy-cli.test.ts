import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { parse as parseToml } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { registerPolicy } from "../../src/cli/policy.js";
import { CURSOR_HOOK, FORMAT_EXT, POLICY_FORMATS, writeAllPolicies } from "../../src/policy/index.js";
import { listServers } from "../../src/store/queries.js";
import { buildCatalog, tempDir } from "../fixtures/configs/policy-test-kit.js";

const ROOT = new URL("../..", import.meta.url).pathname;
let dir: string;
let built: ReturnType<typeof buildCatalog>;

function cli(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    [
      join(ROOT, "node_modules/tsx/dist/cli.mjs"),
      join(ROOT, "test/fixtures/configs/cli-harness.ts"),
      "--data-dir",
      dir,
      ...args,
    ],
    {
      cwd: dir,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, MCP_CENSUS_DEBUG: "" },
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = tempDir("policy-cli-");
  built = buildCatalog(dir, {
    servers: ["paypal/agent-toolkit", "mcp-server-git", "@modelcontextprotocol/server-filesystem"],
    unclassified: "mystery_tool",
  });
});
afterAll(() => built?.catalog.close());

describe("writeAllPolicies", () => {
  it("writes every server in every format, rewrites only changed files, removes gone servers", () => {
    const out = join(dir, "out");
    const r1 = writeAllPolicies(built.catalog.sqlite, out);
    expect(r1).toMatchObject({ servers: 3, files: 3 * POLICY_FORMATS.length, written: 3 * POLICY_FORMATS.length });
    const slugs = listServers(built.catalog.sqlite).map((s) => s.slug);
    for (const s of slugs) {
      expect(existsSync(join(out, "policies", `${s}.json`))).toBe(true);
      for (const f of POLICY_FORMATS.filter((x) => x !== "policy.json"))
        expect(existsSync(join(out, "policies", f, `${s}.${FORMAT_EXT[f]}`))).toBe(true);
    }
    const file = join(out, "policies", `${slugs[0]}.json`);
    const mtime = statSync(file).mtimeMs;
    const before = readFileSync(file);
    const r2 = writeAllPolicies(built.catalog.sqlite, out);
    expect(r2.written).toBe(0);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(readFileSync(file).equals(before)).toBe(true);

    // A server removed from the catalog loses its files; others stay.
    writeFileSync(join(out, "policies", "gone-server.json"), "{}\n");
    writeFileSync(join(out, "policies", "codex", "gone-server.toml"), "\n");
    writeFileSync(join(out, "policies", "notes.txt"), "not ours\n");
    const r3 = writeAllPolicies(built.catalog.sqlite, out);
    expect(r3.removed).toBe(2);
    expect(existsSync(join(out, "policies", "gone-server.json"))).toBe(false);
    expect(existsSync(join(out, "policies", "notes.txt"))).toBe(true);
    expect(readdirSync(join(out, "policies", "codex")).sort()).toEqual(slugs.map((s) => `${s}.toml`).sort());
  });
});

// Each run starts the CLI through tsx, 10-40 s apiece on a loaded machine.
describe("mcp-census policy", { timeout: 300_000 }, () => {
  it("prints a server's policy by slug or name, in any format", () => {
    const slug = listServers(built.catalog.sqlite).find((s) => s.name === "paypal/agent-toolkit")!.slug;
    const a = cli("policy", slug);
    expect(a.code, a.err).toBe(0);
    const p = JSON.parse(a.out);
    expect(p).toMatchObject({ version: "1", default: "deny" });
    expect(p.tools.pay_order.deny_if[0].on_deny).toMatch(/approval/);
    const b = cli("policy", "paypal/agent-toolkit", "--format", "intercept", "--profile", "strict");
    expect(b.code, b.err).toBe(0);
    expect(b.out).toMatch(/^version: "1"/);
    expect(b.out).toMatch(/Recommended strict policy/);
  });

  it("writes --out, applies --overrides, and --all writes every format", () => {
    writeFileSync(join(dir, "ov.json"), JSON.stringify({ tools: { pay_order: { action: "allow" } } }));
    const r = cli("policy", "paypal/agent-toolkit", "--overrides", join(dir, "ov.json"), "--out", join(dir, "p.json"));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "p.json"), "utf8")).tools.pay_order).toEqual({});
    const all = cli("policy", "--all");
    expect(all.code, all.err).toBe(0);
    expect(all.out).toMatch(new RegExp(`3 servers, ${3 * POLICY_FORMATS.length} policy files`));
  });

  it("unknown server: exit 3 and one line naming it, with the closest names", () => {
    const r = cli("policy", "no-such-server");
    expect(r.code).toBe(3);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/no server "no-such-server"/);
    const typo = cli("policy", "server-filesytem");
    expect(typo.code).toBe(3);
    expect(typo.err).toMatch(/did you mean @modelcontextprotocol\/server-filesystem/);
  });

  it("--as: the policy names the server as the user's client does; a suffix finds it case-insensitively", () => {
    const r = cli("policy", "Server-Filesystem", "--as", "fs", "--format", "claude-code", "--profile", "strict");
    expect(r.code, r.err).toBe(0);
    const p = JSON.parse(r.out).permissions;
    expect(p.allow.length).toBeGreaterThan(0);
    expect(p.deny.length).toBeGreaterThan(0);
    expect([...p.allow, ...p.ask, ...p.deny].every((n: string) => n.startsWith("mcp__fs__"))).toBe(true);
    // The Cursor hook script carries the same name, and its table is the policy's.
    const hook = cli("policy", "Server-Filesystem", "--as", "fs", "--format", "cursor-hook", "--profile", "strict");
    expect(hook.code, hook.err).toBe(0);
    expect(hook.out).toMatch(/^#!\/usr\/bin\/env node\n/);
    const table = JSON.parse(JSON.parse(/const POLICY = JSON\.parse\((".*")\);/.exec(hook.out)![1]!));
    expect(Object.keys(table)).toEqual(["fs"]);
    expect(table.fs.allow.map((t: string) => `mcp__fs__${t}`)).toEqual(p.allow);
    const bad = cli("policy", "server-filesystem", "--as", "my server");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/server name "my server" cannot be used/);
  });

  it("bad profile, format or overrides: exit 2 and one line", () => {
    for (const args of [
      ["policy", "mcp-server-git", "--profile", "lax"],
      ["policy", "mcp-server-git", "--format", "xml"],
      ["policy", "mcp-server-git", "--overrides", join(dir, "nope.json")],
    ]) {
      const r = cli(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err.trim().split("\n")).toHaveLength(1);
    }
  });
});

/** The policy command in this process, registered as src/cli/main.ts does (a spawn per format is slow under load). */
async function policyInProcess(...args: string[]): Promise<number> {
  const program = new Command("mcp-census").option("--data-dir <dir>").option("--json").option("-q, --quiet");
  registerPolicy(program);
  program.exitOverride();
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(["--data-dir", dir, "--quiet", ...args], { from: "user" });
    return Number(process.exitCode ?? 0);
  } finally {
    process.exitCode = before;
  }
}

describe("policy <server> --as fs", () => {
  it("works in every format: each names the server fs and never the default name", async () => {
    const names: Record<string, string[]> = {};
    for (const format of [...POLICY_FORMATS, CURSOR_HOOK]) {
      const file = join(dir, `as-fs.${format}`);
      const code = await policyInProcess(
        "policy",
        "server-filesystem",
        "--as",
        "fs",
        "--format",
        format,
        "--out",
        file,
      );
      expect(code, format).toBe(0);
      const text = readFileSync(file, "utf8");
      // The default name (filesystem) never appears as the server's key in any client's syntax.
      expect(text, format).not.toMatch(
        /mcp__filesystem__|mcp_filesystem_|filesystem:|filesystem\/|servers\.filesystem|"filesystem"/,
      );
      switch (format) {
        case "claude-code": {
          const p = JSON.parse(text).permissions;
          names[format] = [...p.allow, ...p.ask, ...p.deny];
          break;
        }
        case "cursor": {
          const c = JSON.parse(text);
          expect(Object.keys(c.mcpCensus.servers)).toEqual(["fs"]);
          names[format] = [...c.mcpAllowlist, ...c.mcpCensus.servers.fs.askEachTime, ...c.mcpCensus.servers.fs.turnOff];
          break;
        }
        case "codex": {
          const t = parseToml(text) as { mcp_servers: Record<string, { enabled_tools: string[] }> };
          expect(Object.keys(t.mcp_servers)).toEqual(["fs"]);
          names[format] = t.mcp_servers.fs!.enabled_tools;
          break;
        }
        case "gemini": {
          const g = JSON.parse(text);
          expect(Object.keys(g.mcpServers)).toEqual(["fs"]);
          expect(g.mcpServers.fs.trust).toBe(false);
          names[format] = g.tools?.allowed ?? [];
          break;
        }
        case "gemini-policy": {
          const rules = (parseToml(text) as { rule: { mcpName: string }[] }).rule;
          expect(new Set(rules.map((r) => r.mcpName))).toEqual(new Set(["fs"]));
          break;
        }
        case "vscode": {
          const v = JSON.parse(text);
          expect(v.mcpCensus.server).toBe("fs");
          names[format] = v.mcpCensus.turnOff;
          break;
        }
        case "intercept":
          expect(parseYaml(text)).toMatchObject({ version: "1", default: "deny" });
          break;
        case "policy.json":
          expect(JSON.parse(text)).toMatchObject({ version: "1", default: "deny" });
          break;
        case CURSOR_HOOK: {
          const table = JSON.parse(JSON.parse(/const POLICY = JSON\.parse\((".*")\);/.exec(text)![1]!));
          expect(Object.keys(table)).toEqual(["fs"]);
          break;
        }
      }
    }
    const prefix: Record<string, string> = {
      "claude-code": "mcp__fs__",
      cursor: "fs:",
      gemini: "mcp_fs_",
      vscode: "fs/",
    };
    for (const [format, p] of Object.entries(prefix)) {
      expect(names[format]!.length, format).toBeGreaterThan(0);
      for (const n of names[format]!) expect(n.startsWith(p), `${format}: ${n}`).toBe(true);
    }
    expect(names.codex!.length).toBeGreaterThan(0);
  });
});

describe("policy <server...> --format cursor", () => {
  it("writes one merged allowlist for several servers (one file replaces Cursor's whole list) and says it can only pre-approve", async () => {
    const file = join(dir, "cursor-many.json");
    const refs = ["paypal/agent-toolkit", "mcp-server-git", "server-filesystem"];
    expect(await policyInProcess("policy", ...refs, "--format", "cursor", "--out", file)).toBe(0);
    const c = JSON.parse(readFileSync(file, "utf8"));
    const keys = Object.keys(c.mcpCensus.servers).sort();
    expect(keys).toEqual(["agent-toolkit", "filesystem", "git"]);
    // Every server's allowed tools are in the one list, and only those.
    for (const k of keys) {
      const mine = c.mcpAllowlist.filter((e: string) => e.startsWith(`${k}:`));
      expect(mine.length, k).toBeGreaterThan(0);
      const one = join(dir, `cursor-${k}.json`);
      const ref = refs[["agent-toolkit", "git", "filesystem"].indexOf(k)]!;
      expect(await policyInProcess("policy", ref, "--format", "cursor", "--out", one)).toBe(0);
      expect(mine).toEqual(JSON.parse(readFileSync(one, "utf8")).mcpAllowlist);
    }
    expect(c.mcpCensus.note).toMatch(/can only pre-approve/);
    // The hook takes several servers too; other formats and --as name one server.
    expect(await policyInProcess("policy", ...refs, "--format", CURSOR_HOOK, "--out", join(dir, "hook.js"))).toBe(0);
    expect(await policyInProcess("policy", ...refs, "--format", "codex", "--out", join(dir, "x.toml"))).toBe(2);
    expect(await policyInProcess("policy", ...refs, "--as", "fs", "--format", "cursor")).toBe(2);
  });
});
