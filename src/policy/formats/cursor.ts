import type { PolicyDecision, RenderScope } from "../types.js";
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

/**
 * One tool's snippet: what to do with that tool in the user's permissions.json. Never an `mcpAllowlist` key (pasted
 * over the file, a one-tool list would replace the user's whole allowlist): the entry to add sits under mcpCensus.
 */
function cursorToolObject(decision: PolicyDecision): Record<string, unknown> {
  const t = decision.tools[0];
  if (!t) return {};
  const entry = cursorName(decision.serverKey, t.tool);
  const where = "~/.cursor/permissions.json";
  const census: Record<string, unknown> =
    t.action === "allow"
      ? {
          note: `Add "${entry}" to the mcpAllowlist in ${where}, keeping the entries it has: the tool then runs without asking.`,
          addToMcpAllowlist: [entry],
        }
      : t.action === "limit" || t.action === "approve"
        ? {
            note: `Keep "${entry}" out of the mcpAllowlist in ${where}: Cursor then asks each time${t.action === "limit" ? " (it cannot rate-limit)" : ""}.`,
            askEachTime: [entry],
          }
        : {
            note: `Cursor's permissions.json cannot refuse a tool: switch "${entry}" off in Cursor's MCP settings, or refuse it with a hook (mcp-census policy --format cursor-hook).`,
            turnOff: [entry],
          };
  return { mcpCensus: census };
}

/** Cursor permissions.json text (a tool's snippet: what to merge for that tool). */
export function renderCursor(decision: PolicyDecision, scope: RenderScope = "server"): string {
  return stableJson(scope === "tool" ? cursorToolObject(decision) : cursorObject([decision]));
}

/** One Cursor permissions.json for several servers. */
export function renderCursorMany(decisions: PolicyDecision[]): string {
  return stableJson(cursorObject(decisions));
}
