import { AppError } from "../core/errors.js";
import type { PolicyDecision } from "./types.js";

/**
 * The names a user may give a server in their client (`--as`): what Codex accepts as an `mcp_servers` key, and what
 * every other client keeps unchanged in its tool names (Claude Code `mcp__<name>__<tool>`, Gemini `mcp_<name>_<tool>`).
 */
export const SERVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks a user-given server name. */
export function parseServerName(s: string): string {
  if (SERVER_NAME.test(s)) return s;
  throw new AppError(
    "bad_input",
    `server name "${s.replace(/[\x00-\x1f\x7f-\x9f]/g, "?").slice(0, 80)}" cannot be used: 1-64 letters, digits, "_" or "-" (Codex accepts no other)`,
  );
}

/** Gemini CLI names an MCP tool `mcp_<server>_<tool>` and cuts names longer than this to `first30...last30`. */
export const GEMINI_NAME_LIMIT = 63;

/**
 * What goes wrong with this server name in some client, in words, with a shorter name to use instead: Gemini CLI
 * truncates long tool names (its policy rules and confirmations then see another name) and splits `mcp_<server>_<tool>`
 * at the first underscore after `mcp_` (a server name with "_" breaks its policy rules).
 */
export function nameWarnings(decision: PolicyDecision): string[] {
  const out: string[] = [];
  const key = decision.serverKey;
  const longest = decision.tools.reduce((m, t) => Math.max(m, t.tool.length), 0);
  const tooLong = decision.tools.filter((t) => `mcp_${key}_${t.tool}`.length > GEMINI_NAME_LIMIT);
  if (tooLong.length > 0) {
    const room = GEMINI_NAME_LIMIT - "mcp__".length - longest;
    const hint =
      room >= 1
        ? `use a server name of at most ${room} characters (e.g. --as ${suggestName(decision, room)})`
        : `the tool names alone are too long (${longest} characters)`;
    out.push(
      `gemini: ${tooLong.length} tool name(s) exceed Gemini CLI's ${GEMINI_NAME_LIMIT + 1}-character limit as mcp_${key}_<tool> and would be truncated (e.g. ${tooLong[0]!.tool}); ${hint}`,
    );
  }
  if (key.includes("_"))
    out.push(
      `gemini: Gemini CLI splits mcp_<server>_<tool> at the first "_", so its policy rules misread a server name with "_"; use "-" instead (e.g. --as ${key.replace(/_/g, "-")})`,
    );
  return out;
}

/** A short name for a server, from its name: `io.github.x/server-filesystem` → `filesystem`. */
export function shortServerName(name: string, max = 64): string {
  const last = (name.split("/").pop() ?? name)
    .toLowerCase()
    .replace(/^@/, "")
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^(?:mcp-server-|server-|mcp-)|(?:-mcp-server|-server|-mcp)$/g, "")
    .replace(/^-+|-+$/g, "");
  return (last || "server").slice(0, Math.max(1, max)).replace(/-+$/, "") || "server";
}

/**
 * A shorter name that fits `room` characters: the server's short name (`filesystem`), else the last word of the name
 * the user gave (`…-server-filesystem` → `filesystem`), else the short name cut to fit. Never with "_" (see above).
 */
function suggestName(decision: PolicyDecision, room: number): string {
  const short = shortServerName(decision.server);
  const words = decision.serverKey
    .toLowerCase()
    .split(/[-_.]+/)
    .filter(Boolean);
  for (const c of [short, words[words.length - 1] ?? ""])
    if (c && c.length <= room && c !== decision.serverKey && SERVER_NAME.test(c)) return c;
  return shortServerName(decision.server, room);
}
