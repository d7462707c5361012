import type { PolicyDecision } from "../types.js";
import { namesWith, stableJson } from "./common.js";

/** Cursor allowlist entries are `server:tool`. */
export function cursorName(serverKey: string, tool: string): string {
  return `${serverKey}:${tool}`;
}

/**
 * Cursor `~/.cursor/permissions.json`: `mcpAllowlist` lists the tools that run without approval; every other tool
 * asks. Cursor cannot hide or refuse a tool from this file (it ignores unknown keys), so the tools to switch off in
 * Cursor's MCP settings are listed under `mcpCensus` for the reader. An empty allowlist is left out: setting one
 * replaces the user's whole allowlist.
 */
export function cursorObject(decision: PolicyDecision): Record<string, unknown> {
  const allow = namesWith(decision, "allow").map((t) => cursorName(decision.serverKey, t));
  const out: Record<string, unknown> = {
    mcpCensus: {
      server: decision.server,
      profile: decision.profile,
      askEachTime: namesWith(decision, "limit", "approve").map((t) => cursorName(decision.serverKey, t)),
      turnOff: namesWith(decision, "hide", "deny").map((t) => cursorName(decision.serverKey, t)),
    },
  };
  if (allow.length > 0) out.mcpAllowlist = allow;
  return out;
}

/** Cursor permissions.json text. */
export function renderCursor(decision: PolicyDecision): string {
  return stableJson(cursorObject(decision));
}
