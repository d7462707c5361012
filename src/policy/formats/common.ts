import type { Action, PolicyDecision, ToolDecision } from "../types.js";

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    // Null prototype: a tool named "__proto__" must stay a plain key.
    const out: Record<string, unknown> = Object.create(null);
    for (const k of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Pretty JSON with sorted keys and a trailing newline: byte-identical for equal input, clean diffs. */
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
