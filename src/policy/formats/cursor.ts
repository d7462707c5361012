import type { PolicyDecision } from "../types.js";
import { namesWith, stableJson } from "./common.js";

/** Cursor allowlist entries are `server:tool`. */
export function cursorName(serverKey: string, tool: string): string {
  return `${serverKey}:${tool}`;
}

export const CURSOR_NOTE =
  "Cursor can only pre-approve: tools in mcpAllowlist run without asking, every other tool asks each time. It cannot refuse or hide a tool from this file: switch the turnOff tools off in Cursor's MCP settings. This file replaces your whole mcpAllowlist: give mcp-census every server at once to get one merged list.";

/**
 * Cursor `~/.cursor/permissions.json` for one or more servers: one `mcpAllowlist` (tools that run without approval)
 * merged across them, and, for the reader, what should ask and what to switch off (Cursor ignores unknown keys).
 */
export function cursorObject(decisions: PolicyDecision[]): Record<string, unknown> {
  const allow = new Set<string>();
  const servers: Record<string, unknown> = Object.create(null);
  for (const d of decisions) {
    for (const t of namesWith(d, "allow")) allow.add(cursorName(d.serverKey, t));
    servers[d.serverKey] = {
      server: d.server,
      profile: d.profile,
      ...(d.unlisted !== undefined
        ? { unlisted: `its tools could not be listed (${d.unlisted}): switch the whole server off until they are` }
        : {}),
      askEachTime: namesWith(d, "limit", "approve").map((t) => cursorName(d.serverKey, t)),
      turnOff: namesWith(d, "hide", "deny").map((t) => cursorName(d.serverKey, t)),
    };
  }
  const out: Record<string, unknown> = { mcpCensus: { note: CURSOR_NOTE, servers } };
  // An empty allowlist is left out: setting one would replace the user's whole allowlist with nothing.
  if (allow.size > 0) out.mcpAllowlist = [...allow].sort();
  return out;
}

/** Cursor permissions.json text. */
export function renderCursor(decision: PolicyDecision): string {
  return stableJson(cursorObject([decision]));
}

/** One Cursor permissions.json for several servers. */
export function renderCursorMany(decisions: PolicyDecision[]): string {
  return stableJson(cursorObject(decisions));
}
