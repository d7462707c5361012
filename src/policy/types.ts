import type { Category, Risk } from "../core/types.js";

export type Profile = "balanced" | "strict" | "permissive";
export const PROFILES: Profile[] = ["balanced", "strict", "permissive"];

export type PolicyFormat =
  | "policy.json"
  | "intercept"
  | "claude-code"
  | "cursor"
  | "codex"
  | "gemini"
  | "gemini-policy"
  | "vscode";
export const POLICY_FORMATS: PolicyFormat[] = [
  "policy.json",
  "intercept",
  "claude-code",
  "cursor",
  "codex",
  "gemini",
  "gemini-policy",
  "vscode",
];

/** How a client starts or reaches the server: a command (env values left for the user) or a remote URL. */
export type LaunchSpec =
  | { kind: "command"; command: string; args: string[]; env: string[] }
  | { kind: "remote"; url: string; transport: "http" | "sse"; headers: string[] };

/**
 * Rendering a whole server's policy, or one tool's snippet to merge into a policy the user already has. A snippet
 * never writes an allowlist (a one-tool `enabled_tools`/`includeTools` would switch every other tool off).
 */
export type RenderScope = "server" | "tool";

export type Action = "allow" | "limit" | "approve" | "hide" | "deny";
export const ACTIONS: Action[] = ["allow", "limit", "approve", "hide", "deny"];

export interface RateLimit {
  window: "minute" | "hour";
  max: number;
}

/** One decision per tool, from stored classifications. */
export interface ToolDecision {
  tool: string;
  action: Action;
  limit?: RateLimit;
  reason: string;
  category: Category;
  risk: Risk;
}

/** The recommended policy for one server: every other format is a view of this. */
export interface PolicyDecision {
  /** Server name. */
  server: string;
  /** The server's key as clients name it: the key in the user's client config (--as, scan), else its short name (shortServerName). */
  serverKey: string;
  profile: Profile;
  /** Sorted by tool. */
  tools: ToolDecision[];
  /** A limit on all calls to the server together (none when the profile sets none). */
  allTools?: RateLimit;
  /** How to start the server, when the catalog knows (the Codex format writes the whole server table from it). */
  launch?: LaunchSpec;
  /** Why the server's tools could not be listed: every format then denies the whole server. */
  unlisted?: string;
  /**
   * For clients run without a person (Claude Code `--dangerously-skip-permissions`, Codex
   * `--dangerously-bypass-approvals-and-sandbox`, Gemini `--approval-mode yolo`): tools that need approval, and
   * rate-limited tools (which client formats turn into asking), are denied, since nobody is there to approve them.
   */
  unattended?: boolean;
}
