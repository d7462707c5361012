// Claude Code as the oracle: the generated claude-code settings, under the name the user gave the server, loaded by
// the real client offline (HOME in a temp folder, a loopback fake Anthropic API that calls every tool on the first
// turn, a real fixture MCP server that records the calls that reach it, and a real MCP approval tool that records
// what Claude Code asked about, approving the tools a test names and refusing the rest).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Profile, renderPolicy } from "../../src/policy/index.js";
import { BIN, cleanEnv, FIXTURE, fixturePolicy, readCalls, run, tempHome, useFakeModel } from "./harness.js";

const NAME = "fs";
const mcp = (n: string) => `mcp__${NAME}__${n}`;

const fakeModel = useFakeModel(mcp);

async function claude(profile: Profile, opts: { bypass?: boolean; unattended?: boolean; approve?: string[] } = {}) {
  const { home, calls } = tempHome("census-claude-");
  mkdirSync(join(home, ".claude"), { recursive: true });
  const policy = renderPolicy(fixturePolicy(NAME, profile, { unattended: opts.unattended }), "claude-code");
  writeFileSync(join(home, ".claude", "settings.json"), policy);
  const server = (env: Record<string, string>) => ({
    command: process.execPath,
    args: [FIXTURE],
    env: { MCP_CENSUS_CALLS: calls, ...env },
  });
  writeFileSync(
    join(home, "mcp.json"),
    JSON.stringify({
      mcpServers: {
        [NAME]: server({}),
        approver: server({ MCP_CENSUS_APPROVER: "1", MCP_CENSUS_APPROVE: (opts.approve ?? []).join(",") }),
      },
    }),
  );
  const before = fakeModel().offered.length;
  const r = await run(
    BIN("claude"),
    [
      "-p",
      "call every tool",
      "--output-format",
      "stream-json",
      "--verbose",
      "--mcp-config",
      join(home, "mcp.json"),
      "--strict-mcp-config",
      ...(opts.bypass ? ["--dangerously-skip-permissions"] : ["--permission-prompt-tool", "mcp__approver__approve"]),
    ],
    {
      cwd: home,
      env: cleanEnv(home, {
        ANTHROPIC_BASE_URL: fakeModel().url,
        ANTHROPIC_API_KEY: "sk-ant-test-not-a-key",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
        // MCP tools offered up front, not behind the deferred tool search.
        ENABLE_TOOL_SEARCH: "false",
        ...(opts.bypass ? { IS_SANDBOX: "1" } : {}),
      }),
      timeoutMs: 150_000,
    },
  );
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  const init = JSON.parse(r.stdout.split("\n")[0]!) as {
    tools: string[];
    mcp_servers: { name: string; status: string }[];
  };
  expect(init.mcp_servers).toContainEqual({ name: NAME, status: "connected", source: expect.anything() });
  expect(fakeModel().offered.length, "the fake model was never offered the server's tools").toBeGreaterThan(before);
  return { init, offered: init.tools.filter((t) => t.startsWith(`mcp__${NAME}__`)).sort(), ...readCalls(calls) };
}

describe("Claude Code enforces the claude-code policy under the user's name (--as fs)", () => {
  it("balanced: reads run, writes and execution ask (approved runs, refused does not), destructive and unclassified tools are not even offered", async () => {
    // The person approves the write and refuses the command: the approved call reaches the server.
    const r = await claude("balanced", { approve: [mcp("write_file")] });
    expect(r.offered).toEqual([mcp("read_file"), mcp("run_command"), mcp("write_file")]);
    expect(r.asked).toEqual([mcp("run_command"), mcp("write_file")]);
    expect(r.called).toEqual(["read_file", "write_file"]);
  }, 200_000);

  it("strict: only the low-risk read is offered and runs; nothing asks", async () => {
    const r = await claude("strict");
    expect(r.offered).toEqual([mcp("read_file")]);
    expect(r.called).toEqual(["read_file"]);
    expect(r.asked).toEqual([]);
  }, 200_000);

  it("--dangerously-skip-permissions: denied tools still never run; --unattended keeps approval and limited tools from running", async () => {
    // Claude Code keeps its ask rules under bypass: with nobody to ask (-p), the write and the command are refused.
    const bypass = await claude("balanced", { bypass: true });
    expect(bypass.called).toEqual(["read_file"]);
    const unattended = await claude("balanced", { bypass: true, unattended: true });
    // --unattended: what would ask (approval and rate-limited tools) is denied, so only the read is offered and runs.
    expect(unattended.offered).toEqual([mcp("read_file")]);
    expect(unattended.called).toEqual(["read_file"]);
  }, 300_000);
});
