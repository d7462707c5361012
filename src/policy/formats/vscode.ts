import type { PolicyDecision } from "../types.js";
import { stableJson } from "./common.js";

export const VSCODE_SETTING = "chat.tools.eligibleForAutoApproval";

export const VSCODE_NOTE =
  "VS Code looks tools up in chat.tools.eligibleForAutoApproval by their bare name, across all servers: false for a name makes that tool of every server always ask. VS Code settings cannot hide or refuse a tool: switch the turnOff tools off in the chat's tool picker.";

/**
 * VS Code user settings: `chat.tools.eligibleForAutoApproval` maps a tool's bare name to whether it may ever be
 * auto-approved. Every tool the policy does not allow is written `false` (it always shows a confirmation); allowed tools
 * are left out (eligible is VS Code's default), so a merge never makes another server's tool of that name eligible.
 */
export function vscodeObject(decision: PolicyDecision): Record<string, unknown> {
  const eligible: Record<string, boolean> = Object.create(null);
  const turnOff: string[] = [];
  for (const t of decision.tools) {
    if (t.action !== "allow") eligible[t.tool] = false;
    if (t.action === "hide" || t.action === "deny") turnOff.push(`${decision.serverKey}/${t.tool}`);
  }
  const census: Record<string, unknown> = { note: VSCODE_NOTE, server: decision.serverKey, turnOff: turnOff.sort() };
  if (decision.unlisted !== undefined)
    census.unlisted = `its tools could not be listed (${decision.unlisted}): disable the whole server until they are`;
  return { [VSCODE_SETTING]: eligible, mcpCensus: census };
}

/** VS Code settings JSON. */
export function renderVscode(decision: PolicyDecision): string {
  return stableJson(vscodeObject(decision));
}
