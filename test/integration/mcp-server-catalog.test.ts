import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.js";
import { buildTestCatalog, type TestCatalog } from "../integration/api-fixture.js";

let t: TestCatalog;

beforeAll(() => {
  t = buildTestCatalog();
  // The stdio server opens the file itself: make sure everything is on disk, not only in the WAL of this handle.
  t.catalog.sqlite.pragma("wal_checkpoint(TRUNCATE)");
});
afterAll(() => t.close());

type Structured = Record<string, unknown>;

/** The checks both transports must pass: same server, same answers. */
async function exercise(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  const names = tools.map((x) => x.name).sort();
  expect(names).toEqual(["check_tool", "get_policy", "get_server", "search_servers", "search_tools"]);
  for (const tool of tools) {
    expect(tool.annotations?.readOnlyHint, tool.name).toBe(true);
    expect(tool.annotations?.idempotentHint, tool.name).toBe(true);
    expect(tool.annotations?.openWorldHint, tool.name).toBe(false);
    expect(tool.annotations?.destructiveHint, tool.name).toBe(false);
  }

  const search = await client.callTool({ name: "search_tools", arguments: { q: "delete", category: "Destructive" } });
  const found = (search.structuredContent as Structured).items as { name: string; category: string }[];
  expect(found.length).toBeGreaterThan(0);
  expect(found.every((i) => i.category === "Destructive")).toBe(true);
  const text = (search.content as { type: string; text: string }[])[0]!;
  expect(JSON.parse(text.text)).toEqual(search.structuredContent);

  const checked = await client.callTool({
    name: "check_tool",
    arguments: { server: "@modelcontextprotocol/server-filesystem", tool: "write_file" },
  });
  expect(checked.isError).toBeFalsy();
  const c = checked.structuredContent as Structured;
  const stored = t.catalog.sqlite
    .prepare(
      `SELECT c.category, c.risk, c.access FROM tools t JOIN servers s ON s.id = t.server_id
       JOIN classifications c ON c.hash = t.hash WHERE s.name = ? AND t.name = ?`,
    )
    .get("@modelcontextprotocol/server-filesystem", "write_file") as Structured;
  expect(c.category).toBe(stored.category);
  expect(c.risk).toBe(stored.risk);
  expect(c.access).toBe(stored.access);
  expect((c.evidence as string[]).length).toBeGreaterThan(0);
  const rule = c.recommendedRule as { tool: string; action: string; reason: string };
  expect(rule.tool).toBe("write_file");
  expect(["allow", "limit", "approve", "hide", "deny"]).toContain(rule.action);
  expect(rule.reason.length).toBeGreaterThan(0);

  const poisoned = await client.callTool({
    name: "check_tool",
    arguments: { server: "test-hostile-calculator", tool: "add_numbers", profile: "permissive" },
  });
  const p = poisoned.structuredContent as Structured;
  expect((p.flags as string[]).some((f) => f.startsWith("poisoning"))).toBe(true);
  expect((p.recommendedRule as { action: string }).action).toBe("hide");

  // What the catalog does not know gets the rule a policy applies to it, as an answer (not a tool error).
  const denied = async (args: Record<string, string>) => {
    const r = await client.callTool({ name: "check_tool", arguments: args });
    expect(r.isError, JSON.stringify(args)).toBeFalsy();
    const out = r.structuredContent as Structured;
    expect(JSON.parse((r.content as { text: string }[])[0]!.text)).toEqual(out);
    expect(out.inCatalog).toBe(false);
    expect(out.classified).toBe(false);
    const rule = out.recommendedRule as { tool: string; action: string; reason: string };
    expect(rule.tool).toBe(args.tool);
    expect(rule.action).toBe("deny");
    return { out, reason: rule.reason };
  };
  const unknownServer = await denied({ server: "nope", tool: "x" });
  expect(unknownServer.reason).toBe("server not in the catalog");
  expect(unknownServer.out.server).toBe("nope");
  expect(unknownServer.out.profile).toBe("balanced");
  const unknownTool = await denied({ server: "modelcontextprotocol-server-github", tool: "no_such_tool" });
  expect(unknownTool.reason).toBe("tool not in the catalog");
  expect(unknownTool.out.server).toBe("@modelcontextprotocol/server-github");
  const unlisted = await denied({ server: "test/slow-server", tool: "anything", profile: "strict" });
  expect(unlisted.reason).toMatch(/^server not listed: the last probe \(.+\) ended timeout: test probe: timeout$/);
  expect(unlisted.out.profile).toBe("strict");
  // A known tool still gets its real answer.
  expect(c.inCatalog).toBe(true);
  const badProfile = await client.callTool({
    name: "check_tool",
    arguments: { server: "nope", tool: "x", profile: "lax" },
  });
  expect(badProfile.isError).toBe(true);

  const server = await client.callTool({
    name: "get_server",
    arguments: { server: "modelcontextprotocol-server-github" },
  });
  expect((server.structuredContent as Structured).toolCount).toBe(
    t.servers.get("@modelcontextprotocol/server-github")?.length,
  );

  const policy = await client.callTool({
    name: "get_policy",
    arguments: { server: "modelcontextprotocol-server-github", format: "claude-code", profile: "strict" },
  });
  const pol = policy.structuredContent as Structured;
  expect(pol.format).toBe("claude-code");
  expect(JSON.stringify(pol.policy)).toContain("mcp__");

  // A server whose tools could not be listed: a deny-all policy with the reason, as from the CLI, not an empty one.
  const unlistedPolicy = await client.callTool({
    name: "get_policy",
    arguments: { server: "test/slow-server", format: "decision" },
  });
  const up = (unlistedPolicy.structuredContent as Structured).policy as { tools: unknown[]; unlisted?: string };
  expect(up.tools).toEqual([]);
  expect(up.unlisted).toMatch(/^the last probe \(.+\) ended timeout: test probe: timeout$/);
  const upCc = await client.callTool({
    name: "get_policy",
    arguments: { server: "test/slow-server", format: "claude-code" },
  });
  const ccPolicy = (upCc.structuredContent as Structured).policy as { permissions: { deny: string[] } };
  // Named as users name it (the short name), the default when no --as is given.
  expect(ccPolicy.permissions.deny).toContain("mcp__slow");
  // Under the name the server has in the user's client (as, like the CLI's --as).
  const asFs = await client.callTool({
    name: "get_policy",
    arguments: { server: "modelcontextprotocol-server-github", format: "claude-code", as: "gh" },
  });
  const asPerms = ((asFs.structuredContent as Structured).policy as { permissions: Record<string, string[]> })
    .permissions;
  const asNames = [...asPerms.allow!, ...asPerms.ask!, ...asPerms.deny!];
  expect(asNames.length).toBeGreaterThan(0);
  expect(asNames.every((n) => n.startsWith("mcp__gh__"))).toBe(true);
  const badAs = await client.callTool({
    name: "get_policy",
    arguments: { server: "modelcontextprotocol-server-github", as: "my server" },
  });
  expect(badAs.isError).toBe(true);

  const bad = await client.callTool({ name: "search_tools", arguments: { limit: 500 } });
  expect(bad.isError).toBe(true);
}

describe("catalog MCP server", () => {
  it("answers over stdio (`mcp-census mcp`)", async () => {
    const transport = new StdioClientTransport({
      command: "npx",
      args: ["tsx", "src/cli/main.ts", "mcp", "--db", t.path],
      cwd: process.cwd(),
      stderr: "pipe",
    });
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(transport);
    try {
      await exercise(client);
    } finally {
      await client.close();
    }
  });

  it("answers over Streamable HTTP at /mcp", async () => {
    const app = createApp({ sqlite: t.catalog.sqlite });
    const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
        resolve({ server: s, port: info.port }),
      );
    });
    const client = new Client({ name: "test", version: "1.0.0" });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
      await exercise(client);
      const get = await fetch(`http://127.0.0.1:${port}/mcp`);
      expect(get.status).toBe(405);
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });
});
