export type { Category, Risk } from "../core/types.js";
export { decidePolicy, decideTool, SAFE_TOOL_NAME } from "./decide.js";
export { APPROVAL_CONDITION, policyJsonObject } from "./formats/policy-json.js";
export {
  loadOverrides,
  type OverrideRule,
  type PolicyOverrides,
  PolicyOverridesSchema,
  parseOverrides,
} from "./overrides.js";
export { FORMAT_EXT, parseFormat, renderPolicy, ruleForTool } from "./render.js";
export {
  type Action,
  POLICY_FORMATS,
  type PolicyDecision,
  type PolicyFormat,
  PROFILES,
  type Profile,
  type RateLimit,
  type ToolDecision,
} from "./types.js";
export { policyPath, writeAllPolicies } from "./write-all.js";
