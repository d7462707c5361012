import type { PolicyDecision } from "../types.js";
import { stableJson } from "./common.js";

/** Claude Code names MCP tools mcp__<server>__<tool>, with other characters than [A-Za-z0-9_-] made "_". */
export function claudeName(serverKey: string, tool: string): string {
  const norm = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");
  return `mcp__${norm(serverKey)}__${norm(tool)}`;
}

/**
 * Claude Code settings permissions (`.claude/settings.json`). Claude Code cannot rate-limit, so limited tools ask
 * (a person stays in the loop where our policy wanted a brake); hidden and denied tools are denied.
 */
export function claudeCodeObject(decision: PolicyDecision): {
  permissions: { allow: string[]; ask: string[]; deny: string[] };
} {
  const allow = new Set<string>();
  const ask = new Set<string>();
  const deny = new Set<string>();
  // Tools that could not be listed: `mcp__<server>` alone matches every tool of the server.
  if (decision.unlisted !== undefined) deny.add(`mcp__${decision.serverKey.replace(/[^A-Za-z0-9_-]/g, "_")}`);
  for (const t of decision.tools) {
    const n = claudeName(decision.serverKey, t.tool);
    if (t.action === "allow") allow.add(n);
    else if (t.action === "limit" || t.action === "approve") ask.add(n);
    else deny.add(n);
  }
  // Two names can normalise alike: the stricter list wins (Claude Code applies deny before ask before allow).
  for (const n of deny) {
    allow.delete(n);
    ask.delete(n);
  }
  for (const n of ask) allow.delete(n);
  return { permissions: { allow: [...allow].sort(), ask: [...ask].sort(), deny: [...deny].sort() } };
}

/** Claude Code settings JSON. */
export function renderClaudeCode(decision: PolicyDecision): string {
  return stableJson(claudeCodeObject(decision));
}
