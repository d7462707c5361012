import type { Category, Risk } from "../core/types.js";

export type Profile = "balanced" | "strict" | "permissive";
export const PROFILES: Profile[] = ["balanced", "strict", "permissive"];

export type PolicyFormat = "policy.json" | "intercept" | "claude-code" | "cursor" | "codex" | "gemini" | "vscode";
export const POLICY_FORMATS: PolicyFormat[] = [
  "policy.json",
  "intercept",
  "claude-code",
  "cursor",
  "codex",
  "gemini",
  "vscode",
];

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
  /** The server's key as clients name it (the catalog slug, or the key in the user's client config). */
  serverKey: string;
  profile: Profile;
  /** Sorted by tool. */
  tools: ToolDecision[];
  /** A limit on all calls to the server together (none when the profile sets none). */
  allTools?: RateLimit;
}
