import type { PolicyDecision } from "../types.js";
import { stableJson } from "./common.js";

export const VSCODE_SETTING = "chat.tools.eligibleForAutoApproval";

/** VS Code refers to an MCP tool as `<server>/<tool>`. */
export function vscodeName(serverKey: string, tool: string): string {
  return `${serverKey}/${tool}`;
}

/**
 * VS Code user settings: `chat.tools.eligibleForAutoApproval` maps a tool to whether it may ever be auto-approved.
 * Only allowed tools are eligible; everything else always shows a confirmation. VS Code settings cannot hide a tool,
 * so hidden and denied tools are also listed under `mcpCensus.turnOff` (unknown settings are ignored).
 */
export function vscodeObject(decision: PolicyDecision): Record<string, unknown> {
  const eligible: Record<string, boolean> = Object.create(null);
  const turnOff: string[] = [];
  for (const t of decision.tools) {
    const n = vscodeName(decision.serverKey, t.tool);
    eligible[n] = t.action === "allow";
    if (t.action === "hide" || t.action === "deny") turnOff.push(n);
  }
  return { [VSCODE_SETTING]: eligible, "mcpCensus.turnOff": turnOff.sort() };
}

/** VS Code settings JSON. */
export function renderVscode(decision: PolicyDecision): string {
  return stableJson(vscodeObject(decision));
}
