import type { PolicyDecision } from "../types.js";
import { namesWith, stableJson } from "./common.js";

/**
 * Gemini CLI `settings.json`: `mcpServers.<name>.includeTools` / `excludeTools`, to merge into the server's entry.
 * `trust` is never set, so Gemini still confirms each call of a tool it exposes; limits cannot be expressed.
 */
export function geminiObject(decision: PolicyDecision): {
  mcpServers: Record<string, { includeTools: string[]; excludeTools: string[] }>;
} {
  const mcpServers: Record<string, { includeTools: string[]; excludeTools: string[] }> = Object.create(null);
  mcpServers[decision.serverKey] = {
    includeTools: namesWith(decision, "allow", "limit", "approve"),
    excludeTools: namesWith(decision, "hide", "deny"),
  };
  return { mcpServers };
}

/** Gemini CLI settings JSON. */
export function renderGemini(decision: PolicyDecision): string {
  return stableJson(geminiObject(decision));
}
