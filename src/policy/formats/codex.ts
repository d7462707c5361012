import { codexLaunchLines } from "../install.js";
import type { PolicyDecision, RenderScope } from "../types.js";
import { namesWith } from "./common.js";
import { tomlKey, tomlString } from "./toml.js";

export { tomlKey, tomlString };

const list = (xs: string[]) => `[${xs.map(tomlString).join(", ")}]`;
/** Text safe inside a TOML comment (one line, no control characters). */
export const commentText = (s: string) => s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, " ");

/** The lines that carry the policy inside `[mcp_servers.<name>]` (before any of its sub-tables). */
function policyLines(decision: PolicyDecision): string[] {
  if (decision.unlisted !== undefined) return ["enabled_tools = []"];
  return [
    `enabled_tools = ${list(namesWith(decision, "allow", "limit", "approve"))}`,
    `disabled_tools = ${list(namesWith(decision, "hide", "deny"))}`,
  ];
}

/**
 * `[mcp_servers.<name>.tools.<tool>]` tables: a person approves each call of a limited or approval tool ("prompt"), and
 * an allowed tool runs without asking ("approve"). Without one, Codex's default ("auto") asks for every tool whose MCP
 * annotations do not say it is read-only and harmless, whatever the policy decided.
 */
function approvalTables(decision: PolicyDecision, table: string): string[] {
  const out: string[] = [];
  for (const t of decision.tools) {
    const mode = t.action === "allow" ? "approve" : t.action === "limit" || t.action === "approve" ? "prompt" : null;
    if (mode) out.push("", `[${table}.tools.${tomlKey(t.tool)}]`, `approval_mode = "${mode}"`);
  }
  return out;
}

/**
 * Codex `~/.codex/config.toml`. The whole policy is one complete `[mcp_servers.<name>]` table (how to start the server
 * when the catalog knows it, `enabled_tools` as a default-deny allowlist, `disabled_tools`, env placeholders) and
 * `approval_mode` per tool ("prompt" where a person approves, "approve" where the policy allows); the header says which lines to merge into an existing
 * table instead, so the file never repeats `[mcp_servers.<name>]`. Codex cannot rate-limit: limited tools ask.
 * A tool's snippet is never an allowlist (a one-tool `enabled_tools` would switch the other tools off).
 */
export function renderCodex(decision: PolicyDecision, scope: RenderScope = "server"): string {
  const name = decision.serverKey;
  const table = `mcp_servers.${tomlKey(name)}`;
  if (scope === "tool") return codexToolSnippet(decision, table);
  const head = [
    `# Recommended ${decision.profile} policy from mcp-census for ${commentText(decision.server)}, as the Codex server "${commentText(name)}".`,
  ];
  if (decision.unlisted !== undefined)
    head.push(
      `# Its tools could not be listed (${commentText(decision.unlisted)}), so every tool is off until they are:`,
      "# run `mcp-census probe` on it (with the env it needs), then generate this policy again.",
    );
  if (namesWith(decision, "limit", "approve").length > 0)
    head.push(
      '# The approval_mode = "prompt" tools ask a person; under --dangerously-bypass-approvals-and-sandbox Codex runs',
      "# them without asking: for that mode generate this policy with --unattended (they are then disabled).",
    );
  const launch = decision.launch ? codexLaunchLines(decision.launch) : undefined;
  const policy = policyLines(decision);
  if (launch) {
    head.push(
      `# New to Codex: add this file's tables to ~/.codex/config.toml as they are (or run \`codex mcp add ${commentText(name)} -- ...\``,
      `# and then merge). Already configured: do not add a second [${table}]; put these lines into that table, above`,
      `# its sub-tables ([${table}.env] and others)${namesWith(decision, "allow", "limit", "approve").length ? `, and add the [${table}.tools.*] tables below` : ""}:`,
      ...policy.map((l) => `#   ${l}`),
      `[${table}]`,
      ...launch.lines,
      ...policy,
    );
    if (launch.env.length > 0) head.push("", `[${table}.env]`, ...launch.env);
  } else {
    head.push(
      `# Merge into the existing [${table}] of ~/.codex/config.toml: these keys go above its sub-tables`,
      "# ([…env] and others); the [*.tools.*] tables go anywhere after it.",
      `[${table}]`,
      ...policy,
    );
  }
  return `${[...head, ...approvalTables(decision, table)].join("\n")}\n`;
}

function codexToolSnippet(decision: PolicyDecision, table: string): string {
  const t = decision.tools[0];
  if (!t) return "";
  const lines = [`# ${commentText(t.tool)}: ${t.action} (${commentText(t.reason)})`];
  switch (t.action) {
    case "allow":
      lines.push(
        `# Keep it in enabled_tools (if any) and let it run without asking:`,
        `[${table}.tools.${tomlKey(t.tool)}]`,
        `approval_mode = "approve"`,
      );
      break;
    case "limit":
    case "approve":
      lines.push(
        `# Keep it in enabled_tools (if any) and let a person approve each call:`,
        `[${table}.tools.${tomlKey(t.tool)}]`,
        `approval_mode = "prompt"`,
      );
      break;
    default:
      lines.push(
        `# Add it to disabled_tools in [${table}] (and remove it from enabled_tools):`,
        `#   disabled_tools = [${commentText(tomlString(t.tool))}]`,
      );
  }
  return `${lines.join("\n")}\n`;
}
