import type { PolicyDecision, RenderScope, ToolDecision } from "../types.js";
import { denyMessage } from "./common.js";
import { toYaml } from "./yaml-emit.js";

export interface InterceptRule {
  name: string;
  action?: "evaluate" | "deny" | "require_approval";
  rate_limit?: string;
  on_deny?: string;
}

/** Intercept rules for one tool; undefined for a hidden tool (it goes in `hide`). */
export function interceptRules(t: ToolDecision): InterceptRule[] | undefined {
  switch (t.action) {
    case "allow":
      return [];
    case "limit":
      return t.limit
        ? [{ name: "rate limit", rate_limit: `${t.limit.max}/${t.limit.window}`, on_deny: denyMessage(t) }]
        : [];
    case "approve":
      // Intercept holds the call until a person approves it (`intercept approve`, or its admin API).
      return [{ name: "needs approval", action: "require_approval", on_deny: denyMessage(t) }];
    case "deny":
      return [{ name: "denied", action: "deny", on_deny: denyMessage(t) }];
    case "hide":
      return undefined;
  }
}

/**
 * Intercept YAML (PolicyLayer's proxy), with only what its POLICY.md defines: `default: deny`, `hide`, per-tool rules
 * with `rate_limit`, `action: deny` or `action: require_approval`, and `on_deny`.
 */
export function renderIntercept(decision: PolicyDecision, scope: RenderScope = "server"): string {
  const tools: Record<string, { rules: InterceptRule[] }> = Object.create(null);
  if (decision.allTools && scope === "server") {
    tools["*"] = {
      rules: [{ name: "global rate limit", rate_limit: `${decision.allTools.max}/${decision.allTools.window}` }],
    };
  }
  const hide: string[] = [];
  for (const t of decision.tools) {
    // "*" means every tool to Intercept; a tool really called that stays unlisted, so default deny refuses it.
    if (t.tool === "*") continue;
    const rules = interceptRules(t);
    if (rules) tools[t.tool] = { rules };
    else hide.push(t.tool);
  }
  // A tool's snippet is only its entry (under `tools`, or in `hide`), to merge into the user's policy.
  if (scope === "tool") return toYaml(hide.length ? { hide } : { tools });
  const unlisted = decision.unlisted !== undefined;
  const doc = {
    version: "1",
    description: unlisted
      ? `${decision.server}: its tools could not be listed (${decision.unlisted}), so every tool is hidden until they are; list them with mcp-census probe and regenerate this policy`
      : `Recommended ${decision.profile} policy for ${decision.server}, from mcp-census classifications`,
    default: "deny",
    // "*" in hide hides every tool (Intercept's POLICY.md).
    hide: unlisted ? ["*"] : hide.sort(),
    tools: unlisted ? {} : tools,
  };
  return toYaml(doc);
}
