import type { PolicyDecision } from "../types.js";
import { namesWith } from "./common.js";

/** A TOML basic string: quotes, backslashes and every non-printable or non-ASCII character escaped. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    // Lone surrogates are not Unicode scalar values, which TOML requires.
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\\uFFFD";
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).toUpperCase().padStart(8, "0")}`;
  }
  return `${out}"`;
}

/** A TOML key: bare when it can be, quoted otherwise. */
export function tomlKey(s: string): string {
  return /^[A-Za-z0-9_-]+$/.test(s) ? s : tomlString(s);
}

const list = (xs: string[]) => `[${xs.map(tomlString).join(", ")}]`;

/**
 * Codex `~/.codex/config.toml`: `[mcp_servers.<name>]` with `enabled_tools` / `disabled_tools`, and a per-tool
 * `approval_mode = "prompt"` where a person must approve each call. Limits cannot be expressed.
 */
export function renderCodex(decision: PolicyDecision): string {
  const table = `mcp_servers.${tomlKey(decision.serverKey)}`;
  const lines = [
    `# Recommended ${decision.profile} policy from mcp-census: merge into this server's entry.`,
    `[${table}]`,
    `enabled_tools = ${list(namesWith(decision, "allow", "limit", "approve"))}`,
    `disabled_tools = ${list(namesWith(decision, "hide", "deny"))}`,
  ];
  for (const t of namesWith(decision, "approve")) {
    lines.push("", `[${table}.tools.${tomlKey(t)}]`, `approval_mode = "prompt"`);
  }
  return `${lines.join("\n")}\n`;
}
