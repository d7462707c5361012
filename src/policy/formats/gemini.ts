import type { PolicyDecision, RenderScope } from "../types.js";
import { commentText } from "./codex.js";
import { denyMessage, namesWith, stableJson } from "./common.js";
import { tomlString } from "./toml.js";

interface GeminiEntry {
  includeTools?: string[];
  excludeTools?: string[];
  trust: false;
  description?: string;
}

/**
 * Gemini CLI `settings.json`: `mcpServers.<name>` keys to merge into the server's entry: `includeTools` (only these are
 * offered), `excludeTools`, and `trust: false` so Gemini confirms each call of the tools it offers, except the allowed
 * ones, listed in `tools.allowed` (merge into that list; a tool's snippet has its entry too). Limits cannot be
 * expressed; under `--approval-mode yolo` nothing is confirmed, so prefer the gemini-policy format there. A server
 * whose tools could not be listed is switched off (`mcp.excluded`). A tool's snippet never writes `includeTools`.
 */
export function geminiObject(decision: PolicyDecision, scope: RenderScope = "server"): Record<string, unknown> {
  const mcpServers: Record<string, GeminiEntry> = Object.create(null);
  const name = decision.serverKey;
  if (decision.unlisted !== undefined) {
    mcpServers[name] = {
      trust: false,
      description: `Switched off by mcp-census: its tools could not be listed (${decision.unlisted}); list them with mcp-census probe, then regenerate this policy`,
    };
    return { mcp: { excluded: [name] }, mcpServers };
  }
  const exclude = namesWith(decision, "hide", "deny");
  mcpServers[name] =
    scope === "tool"
      ? { ...(exclude.length ? { excludeTools: exclude } : {}), trust: false }
      : { includeTools: namesWith(decision, "allow", "limit", "approve"), excludeTools: exclude, trust: false };
  // Allowed tools run without a confirmation: tools.allowed (global, by Gemini's tool name mcp_<server>_<tool>).
  // Without it, trust false makes every tool ask, and headless Gemini offers none of them. It only skips the
  // confirmation (it switches no other tool off), so a tool's snippet carries it too.
  const allowed = namesWith(decision, "allow").map((t) => `mcp_${name}_${t}`);
  return allowed.length ? { mcpServers, tools: { allowed } } : { mcpServers };
}

/** Gemini CLI settings JSON. */
export function renderGemini(decision: PolicyDecision, scope: RenderScope = "server"): string {
  return stableJson(geminiObject(decision, scope));
}

/** Priorities inside the user tier: a tool's own rule over the server-wide default deny. */
const TOOL_PRIORITY = 200;
const SERVER_PRIORITY = 100;

/**
 * Gemini CLI policy engine rules (`~/.gemini/policies/<file>.toml`, the user tier, which outranks Gemini's built-in
 * rules, including the one that allows everything under `--approval-mode yolo`): allowed tools `allow`, limited and
 * approval tools `ask_user` (denied when Gemini runs headless), hidden and denied tools `deny` (removed from what the
 * model sees), and every other tool of the server denied. A tool's snippet is that tool's rule alone.
 */
export function renderGeminiPolicy(decision: PolicyDecision, scope: RenderScope = "server"): string {
  const name = tomlString(decision.serverKey);
  const out: string[] = [];
  const rule = (fields: string[]) => out.push("", "[[rule]]", ...fields);
  if (scope === "server") {
    out.push(
      `# Recommended ${decision.profile} policy from mcp-census for ${commentText(decision.server)}, as the Gemini server "${commentText(decision.serverKey)}".`,
      `# Save as ~/.gemini/policies/mcp-census-${commentText(decision.serverKey)}.toml (Gemini ignores workspace policies).`,
    );
    const why =
      decision.unlisted !== undefined
        ? `its tools could not be listed (${decision.unlisted}); list them with mcp-census probe and regenerate this policy`
        : "tools this policy does not name are denied";
    if (decision.unlisted !== undefined) out.push(`# ${commentText(why)}`);
    // toolName "*" with mcpName: every tool of that server (Gemini 0.61 rejects a rule with mcpName alone).
    rule([
      `mcpName = ${name}`,
      `toolName = "*"`,
      `decision = "deny"`,
      `priority = ${SERVER_PRIORITY}`,
      `denyMessage = ${tomlString(`${decision.serverKey}: ${why}.`)}`,
    ]);
    const allow = namesWith(decision, "allow");
    if (allow.length)
      rule([
        `mcpName = ${name}`,
        `toolName = [${allow.map(tomlString).join(", ")}]`,
        `decision = "allow"`,
        `priority = ${TOOL_PRIORITY}`,
      ]);
    const ask = namesWith(decision, "limit", "approve");
    if (ask.length)
      rule([
        `mcpName = ${name}`,
        `toolName = [${ask.map(tomlString).join(", ")}]`,
        `decision = "ask_user"`,
        `priority = ${TOOL_PRIORITY}`,
      ]);
  }
  for (const t of decision.tools) {
    if (scope === "tool" && t.action !== "hide" && t.action !== "deny") {
      rule([
        `mcpName = ${name}`,
        `toolName = ${tomlString(t.tool)}`,
        `decision = ${t.action === "allow" ? `"allow"` : `"ask_user"`}`,
        `priority = ${TOOL_PRIORITY}`,
      ]);
      continue;
    }
    if (t.action !== "hide" && t.action !== "deny") continue;
    rule([
      `mcpName = ${name}`,
      `toolName = ${tomlString(t.tool)}`,
      `decision = "deny"`,
      `priority = ${TOOL_PRIORITY}`,
      `denyMessage = ${tomlString(denyMessage(t))}`,
    ]);
  }
  const text = out.join("\n").replace(/^\n/, "");
  return `${text}\n`;
}
