import type { PolicyDecision, RateLimit, RenderScope, ToolDecision } from "../types.js";
import { denyMessage, namesWith, stableJson } from "./common.js";

/** The condition a call must meet to pass an approval gate: the gateway marks approved calls. */
export const APPROVAL_CONDITION = { path: "approval.granted", op: "neq", value: true } as const;

export interface PolicyJsonLimit {
  counter: string;
  window: "minute" | "hour";
  max: number;
  scope: "grant";
}
export interface PolicyJsonDenyIf {
  conditions: { path: string; op: string; value: unknown }[];
  on_deny: string;
}
export interface PolicyJsonTool {
  limits?: PolicyJsonLimit[];
  deny_if?: PolicyJsonDenyIf[];
}
export interface PolicyJson {
  version: "1";
  description?: string;
  default: "deny";
  hide: string[];
  all_tools: { limits: PolicyJsonLimit[] };
  tools: Record<string, PolicyJsonTool>;
}

function limitOf(prefix: string, l: RateLimit): PolicyJsonLimit {
  return { counter: `${prefix}_per_${l.window}`, window: l.window, max: l.max, scope: "grant" };
}

/** The policy.json v1 entry for one tool; undefined for a hidden tool (it goes in `hide`). */
export function policyJsonTool(t: ToolDecision): PolicyJsonTool | undefined {
  switch (t.action) {
    case "allow":
      return {};
    case "limit":
      return t.limit ? { limits: [limitOf("calls", t.limit)] } : {};
    case "approve":
      return { deny_if: [{ conditions: [{ ...APPROVAL_CONDITION }], on_deny: denyMessage(t) }] };
    case "deny":
      // No conditions: the entry always matches (all of none hold), so the tool is refused with its reason.
      return { deny_if: [{ conditions: [], on_deny: denyMessage(t) }] };
    case "hide":
      return undefined;
  }
}

/**
 * The policy.json v1 object: mcp-census's own format, for gateways that read it. It is not an Intercept policy
 * (Intercept ignores `deny_if`, `limits` and `all_tools`): use the intercept format for Intercept.
 */
export function policyJsonObject(decision: PolicyDecision): PolicyJson {
  const tools: Record<string, PolicyJsonTool> = Object.create(null);
  for (const t of decision.tools) {
    const entry = policyJsonTool(t);
    if (entry) tools[t.tool] = entry;
  }
  if (decision.unlisted !== undefined) {
    return {
      version: "1",
      description: `${decision.server}: its tools could not be listed (${decision.unlisted}), so every call is denied until they are; list them with mcp-census probe and regenerate this policy`,
      default: "deny",
      hide: [],
      all_tools: { limits: [] },
      tools,
    };
  }
  return {
    version: "1",
    description: `Recommended ${decision.profile} policy for ${decision.server}, from mcp-census classifications`,
    default: "deny",
    hide: namesWith(decision, "hide"),
    all_tools: { limits: decision.allTools ? [limitOf("all_calls", decision.allTools)] : [] },
    tools,
  };
}

/** policy.json v1 text; a tool's snippet is only its entry (under `tools`, or in `hide`), to merge. */
export function renderPolicyJson(decision: PolicyDecision, scope: RenderScope = "server"): string {
  const o = policyJsonObject(decision);
  if (scope === "tool") return stableJson(o.hide.length ? { hide: o.hide } : { tools: o.tools });
  return stableJson(o);
}
