// A real MCP server (the SDK over stdio) for the client oracle tests: five tools, one per policy decision, each
// call recorded as a JSON line in $MCP_CENSUS_CALLS so a test sees which calls reached the server. With
// MCP_CENSUS_APPROVER=1 it is instead the approval tool Claude Code asks (--permission-prompt-tool): it records
// what it was asked about and approves the tools named in MCP_CENSUS_APPROVE, refusing the rest.
import { appendFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const log = process.env.MCP_CENSUS_CALLS;
const record = (entry) => {
  if (log) appendFileSync(log, `${JSON.stringify(entry)}\n`);
};

const server = new McpServer({ name: "census-fixture", version: "1.0.0" });
if (process.env.MCP_CENSUS_APPROVER === "1") {
  server.registerTool(
    "approve",
    {
      description: "Decides whether a tool call may run.",
      inputSchema: { tool_name: z.string(), input: z.any().optional(), tool_use_id: z.string().optional() },
    },
    async (args) => {
      record({ asked: args.tool_name });
      // MCP_CENSUS_APPROVE: the tools (by Claude Code's name) the person approves; every other one is refused.
      const approved = (process.env.MCP_CENSUS_APPROVE ?? "").split(",").includes(args.tool_name);
      const answer = approved
        ? { behavior: "allow", updatedInput: args.input ?? {} }
        : { behavior: "deny", message: "refused by the test approver" };
      return { content: [{ type: "text", text: JSON.stringify(answer) }] };
    },
  );
} else {
  const tools = {
    read_file: "Read the contents of a file.",
    write_file: "Write text to a file, replacing it.",
    run_command: "Run a shell command.",
    delete_file: "Delete a file permanently.",
    mystery: "Does something.",
  };
  for (const [name, description] of Object.entries(tools)) {
    server.registerTool(name, { description, inputSchema: { path: z.string().optional() } }, async (args) => {
      record({ called: name, args });
      return { content: [{ type: "text", text: `${name} ran` }] };
    });
  }
}
if (process.env.MCP_CENSUS_TRACE) record({ started: process.pid });
await server.connect(new StdioServerTransport());
