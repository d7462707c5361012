import {
  decidePolicy,
  POLICY_FORMATS,
  type PolicyDecision,
  type PolicyFormat,
  type Profile,
  renderPolicy,
  ruleForTool,
  type ToolDecision,
} from "../policy/index.js";
import type { ServerRow, ToolRow } from "../store/queries.js";

/** The policy views a server's pages show: all read from one decision made by src/policy. */
export interface ServerPolicy {
  formats: readonly string[];
  /** The full policy of the server in each format. */
  full: { format: string; text: string }[];
  /** The recommended rule for one tool in one format. */
  rule(toolName: string, format: string): string;
  /** The decision for one tool (action and the reason in words). */
  decision(toolName: string): Pick<ToolDecision, "action" | "reason"> | undefined;
}

export type PolicyProvider = (server: ServerRow, tools: ToolRow[]) => ServerPolicy;

/** One decision per server from src/policy, rendered in every policy format. */
export function policyProvider(profile: Profile = "balanced"): PolicyProvider {
  return (server, tools) => {
    const decision: PolicyDecision = decidePolicy(server, tools, { profile });
    const byTool = new Map(decision.tools.map((t) => [t.tool, t]));
    return {
      formats: POLICY_FORMATS,
      full: POLICY_FORMATS.map((format) => ({ format, text: renderPolicy(decision, format) })),
      rule: (toolName, format) => ruleForTool(decision, toolName, format as PolicyFormat),
      decision: (toolName) => byTool.get(toolName),
    };
  };
}
