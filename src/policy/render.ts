import { AppError } from "../core/errors.js";
import { renderClaudeCode } from "./formats/claude-code.js";
import { renderCodex } from "./formats/codex.js";
import { renderCursor } from "./formats/cursor.js";
import { renderGemini, renderGeminiPolicy } from "./formats/gemini.js";
import { renderIntercept } from "./formats/intercept.js";
import { renderPolicyJson } from "./formats/policy-json.js";
import { renderVscode } from "./formats/vscode.js";
import { POLICY_FORMATS, type PolicyDecision, type PolicyFormat, type RenderScope } from "./types.js";

const RENDERERS: Record<PolicyFormat, (d: PolicyDecision, scope: RenderScope) => string> = {
  "policy.json": renderPolicyJson,
  intercept: renderIntercept,
  "claude-code": renderClaudeCode,
  cursor: renderCursor,
  codex: renderCodex,
  gemini: renderGemini,
  "gemini-policy": renderGeminiPolicy,
  vscode: renderVscode,
};

/** File extension per format. */
export const FORMAT_EXT: Record<PolicyFormat, string> = {
  "policy.json": "json",
  intercept: "yaml",
  "claude-code": "json",
  cursor: "json",
  codex: "toml",
  gemini: "json",
  "gemini-policy": "toml",
  vscode: "json",
};

/** Checks a user-given format name. */
export function parseFormat(s: string): PolicyFormat {
  if ((POLICY_FORMATS as string[]).includes(s)) return s as PolicyFormat;
  throw new AppError("bad_input", `unknown policy format "${s}" (one of: ${POLICY_FORMATS.join(", ")})`);
}

/** The policy in one format: deterministic text with a trailing newline. */
export function renderPolicy(decision: PolicyDecision, format: PolicyFormat, scope: RenderScope = "server"): string {
  const r = RENDERERS[format];
  if (!r) throw new AppError("bad_input", `unknown policy format "${String(format)}"`);
  return r(decision, scope);
}

/**
 * The snippet for one tool in one format, to merge into the user's policy: that tool's rule alone, never an allowlist
 * that would switch the server's other tools off ("" for an unknown tool).
 */
export function ruleForTool(decision: PolicyDecision, tool: string, format: PolicyFormat): string {
  const t = decision.tools.find((d) => d.tool === tool);
  if (!t) return "";
  // The server-wide limit belongs to the whole policy, not to one tool's snippet.
  const { allTools: _omit, ...rest } = decision;
  return renderPolicy({ ...rest, tools: [t] }, format, "tool");
}
