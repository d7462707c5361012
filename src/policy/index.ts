export type { Category, Risk } from "../core/types.js";
export { decidePolicy, decideTool, SAFE_TOOL_NAME, whyNotListed } from "./decide.js";
export { CURSOR_NOTE, renderCursorMany } from "./formats/cursor.js";
export { CURSOR_HOOK, renderCursorHook } from "./formats/cursor-hook.js";
export { APPROVAL_CONDITION, policyJsonObject } from "./formats/policy-json.js";
export { VSCODE_NOTE } from "./formats/vscode.js";
export { codexLaunchLines, type InstallClient, installSnippet, launchSpec } from "./install.js";
export { GEMINI_NAME_LIMIT, nameWarnings, parseServerName, SERVER_NAME, shortServerName } from "./names.js";
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
  type LaunchSpec,
  POLICY_FORMATS,
  type PolicyDecision,
  type PolicyFormat,
  PROFILES,
  type Profile,
  type RateLimit,
  type RenderScope,
  type ToolDecision,
} from "./types.js";
export { policyPath, serverDecision, writeAllPolicies } from "./write-all.js";
