// The generated Cursor beforeMCPExecution hook, run as Cursor runs it: a real `node` child process with one call as
// JSON on stdin, its decision read from stdout. Cursor itself is not on npm, so the payloads are the shapes Cursor
// documents (bare tool name, tool_input as a JSON string, mcp_server_name, url or command) plus the prefixed tool
// names some versions send.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Classification } from "../../src/core/types.js";
import { decidePolicy, renderCursorHook } from "../../src/policy/index.js";

const cls = (category: Classification["category"], risk: Classification["risk"]): Classification => ({
  access: category === "Read" ? "read" : category === "Execute" ? "execute" : "write",
  destructive: category === "Destructive",
  financial: category === "Financial",
  category,
  risk,
  confidence: 0.9,
  signals: [],
  flags: [],
  source: "test",
  classifierVersion: "test-1",
});

const HOSTILE = "dump</script>\u2028`${process.exit(7)}`";
const fs = decidePolicy(
  { name: "io.github.example/server-filesystem", slug: "x" },
  [
    { name: "read_file", classification: cls("Read", "low") },
    { name: "write_file", classification: cls("Write", "medium") },
    { name: "run_command", classification: cls("Execute", "critical") },
    { name: "delete_file", classification: cls("Destructive", "critical") },
    { name: "mystery", classification: null },
    { name: "shared", classification: cls("Read", "low") },
    { name: "__proto__", classification: cls("Read", "low") },
    { name: HOSTILE, classification: cls("Read", "low") },
  ],
  { serverKey: "fs" },
);
const gh = decidePolicy(
  { name: "io.github.example/github", slug: "y" },
  [
    { name: "list_issues", classification: cls("Read", "low") },
    { name: "shared", classification: cls("Write", "medium") },
  ],
  { serverKey: "gh" },
);
const broken = decidePolicy({ name: "io.github.example/broken", slug: "z" }, [], {
  serverKey: "broken",
  unlisted: "the last probe ended timeout",
});

// "__proto__" is a valid server name (--as) and tool name: it must be an entry, not the table's prototype.
const proto = decidePolicy(
  { name: "io.github.example/proto", slug: "p" },
  [
    { name: "list", classification: cls("Read", "low") },
    { name: "drop", classification: cls("Destructive", "critical") },
  ],
  { serverKey: "__proto__" },
);

const dir = mkdtempSync(join(tmpdir(), "census-cursor-hook-"));
const script = join(dir, "mcp-census.mjs");
writeFileSync(script, renderCursorHook([fs, gh, broken, proto]));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the hook on one stdin text; returns its decision. */
function hook(stdin: string): { permission: string; user_message?: string; agent_message?: string } {
  const r = spawnSync(process.execPath, [script], { input: stdin, encoding: "utf8", timeout: 10_000 });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!);
}
const call = (server: string | undefined, tool: string) =>
  hook(
    JSON.stringify({
      conversation_id: "c1",
      generation_id: "g1",
      hook_event_name: "beforeMCPExecution",
      workspace_roots: ["/tmp/p"],
      tool_name: tool,
      tool_input: '{"path":"a.txt"}',
      ...(server !== undefined ? { mcp_server_name: server } : {}),
      command: "npx -y some-server",
    }),
  );

describe("Cursor beforeMCPExecution hook", () => {
  it("allows allowed tools, asks for limited and approval tools, refuses hidden and denied ones with the reason", () => {
    expect(call("fs", "read_file")).toEqual({ permission: "allow" });
    expect(call("fs", "write_file")).toEqual({ permission: "ask" });
    expect(call("fs", "run_command")).toEqual({ permission: "ask" });
    const del = call("fs", "delete_file");
    expect(del.permission).toBe("deny");
    expect(del.agent_message).toMatch(/^delete_file: Destructive, critical risk: .*\(mcp-census\)$/);
    expect(del.user_message).toBe(del.agent_message);
    expect(call("fs", "mystery").permission).toBe("deny");
    expect(call("gh", "list_issues")).toEqual({ permission: "allow" });
  });

  it("refuses a tool of a known server that the policy does not name, and every tool of a server never listed", () => {
    const added = call("fs", "format_disk");
    expect(added.permission).toBe("deny");
    expect(added.agent_message).toMatch(/not in the mcp-census policy/);
    const unlisted = call("broken", "anything");
    expect(unlisted.permission).toBe("deny");
    expect(unlisted.agent_message).toMatch(/could not be listed \(the last probe ended timeout\)/);
  });

  it("never approves what it cannot place: other servers, ambiguous bare names and unreadable calls ask", () => {
    expect(call("other", "read_file")).toEqual({ permission: "ask" });
    expect(call("", "no_such_tool")).toEqual({ permission: "ask" });
    expect(call(undefined, "shared").permission).toBe("ask");
    expect(hook("not json").permission).toBe("ask");
    expect(hook("").permission).toBe("ask");
    expect(hook('"a string"').permission).toBe("ask");
    expect(call("fs", "").permission).toBe("ask");
    // a server named like an Object.prototype key is not a policy entry
    expect(call("constructor", "read_file")).toEqual({ permission: "ask" });
    expect(call("hasOwnProperty", "read_file")).toEqual({ permission: "ask" });
    expect(call("fs", "constructor").permission).toBe("deny");
    // a tool or a server really called __proto__ is an entry like any other
    expect(call("fs", "__proto__")).toEqual({ permission: "allow" });
    expect(call("__proto__", "list")).toEqual({ permission: "allow" });
    expect(call("__proto__", "drop").permission).toBe("deny");
  });

  it("places a call without a server name, or with the server in the tool name, by the tool's owner", () => {
    expect(call(undefined, "read_file")).toEqual({ permission: "allow" });
    expect(call(undefined, "delete_file").permission).toBe("deny");
    expect(call(undefined, "MCP:fs:delete_file").permission).toBe("deny");
    expect(call(undefined, "mcp__fs__read_file")).toEqual({ permission: "allow" });
    expect(call(undefined, "MCP:gh:shared")).toEqual({ permission: "ask" });
  });

  it("carries hostile tool names as data: the script still runs and decides on them", () => {
    // The hostile name is denied by the engine (characters client rules cannot carry safely) and refused here.
    const r = call("fs", HOSTILE);
    expect(r.permission).toBe("deny");
    expect(r.agent_message).toContain("dump</script>");
  });
});
