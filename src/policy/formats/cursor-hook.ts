import type { PolicyDecision } from "../types.js";
import { namesWith } from "./common.js";

/** The CLI's name for this output (`policy <servers…> --format cursor-hook`); not one of the policy file formats. */
export const CURSOR_HOOK = "cursor-hook";

/**
 * What the generated hook decides, per server key: tools that run, tools that ask, tools refused (with the reason a
 * person and the agent read), and why a server is refused whole when its tools could not be listed.
 */
interface HookTable {
  [serverKey: string]: {
    server: string;
    allow: string[];
    ask: string[];
    deny: Record<string, string>;
    unlisted?: string;
  };
}

function hookTable(decisions: PolicyDecision[]): HookTable {
  const table: HookTable = Object.create(null);
  for (const d of decisions) {
    const deny: Record<string, string> = Object.create(null);
    for (const t of d.tools)
      if (t.action === "hide" || t.action === "deny") deny[t.tool] = `${t.tool}: ${t.reason} (mcp-census)`;
    table[d.serverKey] = {
      server: d.server,
      allow: namesWith(d, "allow"),
      ask: namesWith(d, "limit", "approve"),
      deny,
      ...(d.unlisted !== undefined
        ? {
            unlisted: `its tools could not be listed (${d.unlisted}); list them with mcp-census probe and regenerate this hook`,
          }
        : {}),
    };
  }
  return table;
}

/**
 * A Cursor `beforeMCPExecution` hook (a Node script) for one or more servers: unlike permissions.json, a hook can
 * refuse a call. Cursor runs it before every MCP tool call with the call as JSON on stdin (`mcp_server_name`,
 * `tool_name`, `tool_input`, and the server's `url` or `command`) and reads `{"permission": "allow" | "ask" | "deny"}`
 * from stdout. Allowed tools run, limited and approval tools ask, hidden and denied tools are refused with the reason,
 * a tool of a listed server that the policy does not name is refused, and anything the script cannot place (another
 * server, an unreadable call) asks, so the hook never approves what it does not know. Registered with
 * `failClosed: true`, a crash or timeout refuses the call.
 */
export function renderCursorHook(decisions: PolicyDecision[]): string {
  const names = decisions.map((d) => d.serverKey).join(", ");
  // The table goes in as a JSON string parsed at run time, not as an object literal: a literal would turn a key
  // "__proto__" (a valid tool or server name) into the object's prototype instead of an entry.
  const table = JSON.stringify(JSON.stringify(hookTable(decisions))).replace(
    /[\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  const profiles = [...new Set(decisions.map((d) => d.profile))].join(", ");
  return `#!/usr/bin/env node
// Cursor beforeMCPExecution hook from mcp-census (${profiles} profile) for the MCP server(s): ${names.replace(/[\r\n\u2028\u2029]/g, " ")}.
// Save it as ~/.cursor/hooks/mcp-census.mjs and register it in ~/.cursor/hooks.json:
//   {"version": 1, "hooks": {"beforeMCPExecution": [
//     {"command": "node ~/.cursor/hooks/mcp-census.mjs", "failClosed": true}]}}
// The names above must be the servers' names in ~/.cursor/mcp.json (regenerate with --as to change one).
// Allowed tools run, limited and approval tools ask, hidden and denied tools are refused; a call this hook cannot
// place (another server, unreadable input) asks. Cursor cannot count calls: rate limits are not enforced.
const POLICY = JSON.parse(${table});

function decide(call) {
  let server = typeof call.mcp_server_name === "string" ? call.mcp_server_name : "";
  let tool = typeof call.tool_name === "string" ? call.tool_name : "";
  // Some Cursor versions prefix the tool name with its server: MCP:<server>:<tool>, mcp__<server>__<tool>.
  const prefixed = /^MCP:([^:]+):(.+)$/.exec(tool) ?? /^mcp__(.+?)__(.+)$/.exec(tool);
  if (prefixed) [, server, tool] = prefixed;
  if (!tool) return { permission: "ask", user_message: "mcp-census hook: the call names no tool" };
  let entry = server ? Object.hasOwn(POLICY, server) && POLICY[server] : undefined;
  if (entry === undefined) {
    // No server name in the call (older Cursor): a tool name of exactly one server here is that server's.
    const owners = Object.keys(POLICY).filter(
      (k) => POLICY[k].allow.includes(tool) || POLICY[k].ask.includes(tool) || Object.hasOwn(POLICY[k].deny, tool),
    );
    entry = owners.length === 1 ? POLICY[owners[0]] : false;
    if (owners.length > 1) return { permission: "ask", user_message: \`mcp-census hook: \${tool} belongs to several servers\` };
  }
  if (!entry) return { permission: "ask" };
  const refuse = (why) => ({ permission: "deny", user_message: why, agent_message: why });
  if (entry.unlisted) return refuse(\`\${entry.server}: \${entry.unlisted} (mcp-census)\`);
  if (Object.hasOwn(entry.deny, tool)) return refuse(entry.deny[tool]);
  if (entry.ask.includes(tool)) return { permission: "ask" };
  if (entry.allow.includes(tool)) return { permission: "allow" };
  return refuse(\`\${tool}: not in the mcp-census policy for \${entry.server} (a new tool?); regenerate this hook\`);
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => {
  input += c;
});
process.stdin.on("end", () => {
  let call = null;
  try {
    call = JSON.parse(input);
  } catch {}
  const out =
    call && typeof call === "object"
      ? decide(call)
      : { permission: "ask", user_message: "mcp-census hook: could not read the call" };
  process.stdout.write(\`\${JSON.stringify(out)}\\n\`);
});
`;
}
