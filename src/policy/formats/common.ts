import { sortKeys } from "../../core/hash.js";
import type { Action, PolicyDecision, ToolDecision } from "../types.js";

/** Pretty JSON with sorted keys (a tool named "__proto__" stays a plain key) and a trailing newline: byte-identical for equal input, clean diffs. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

/** Sorted tool names whose decision is one of the given actions. */
export function namesWith(decision: PolicyDecision, ...actions: Action[]): string[] {
  return decision.tools
    .filter((t) => actions.includes(t.action))
    .map((t) => t.tool)
    .sort();
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** What to say to an agent whose call was refused. */
export function denyMessage(t: ToolDecision): string {
  switch (t.action) {
    case "approve":
      return `${t.tool} needs a person's approval for each call. ${cap(t.reason)}.`;
    case "limit":
      return `Rate limit of ${t.limit?.max} per ${t.limit?.window} reached for ${t.tool}. Try again later.`;
    default:
      return `${t.tool} is not permitted by policy. ${cap(t.reason)}.`;
  }
}
