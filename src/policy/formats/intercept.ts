import type { PolicyDecision, ToolDecision } from "../types.js";
import { denyMessage } from "./common.js";
import { toYaml } from "./yaml-emit.js";

export interface InterceptRule {
  name: string;
  action?: "evaluate" | "deny";
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
      // Intercept has no approval step: the call is refused and the message tells the agent to ask a person.
      return [{ name: "needs approval", action: "deny", on_deny: denyMessage(t) }];
    case "deny":
      return [{ name: "denied", action: "deny", on_deny: denyMessage(t) }];
    case "hide":
      return undefined;
  }
}

/** Intercept YAML (PolicyLayer's proxy): default deny, `hide`, per-tool rules with `rate_limit` and `on_deny`. */
export function renderIntercept(decision: PolicyDecision): string {
  const tools: Record<string, { rules: InterceptRule[] }> = Object.create(null);
  if (decision.allTools) {
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
  const doc = {
    version: "1",
    description: `Recommended ${decision.profile} policy for ${decision.server}, from mcp-census classifications`,
    default: "deny",
    hide: hide.sort(),
    tools,
  };
  return toYaml(doc);
}
