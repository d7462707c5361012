/**
 * The catalog's vocabulary, written once: access, category, risk, classifier flags, change kinds and severities,
 * probe outcomes — as zod enums (for validation, the LLM's response format, jobs, API parameters and the OpenAPI
 * document), their human labels, and the rules that relate them (category derivation, risk order and invariants).
 * Everything else imports these; nothing redefines them.
 */
import { z } from "zod";

// ---------------------------------------------------------------------------------------------------------------
// Access: what a tool needs.

export const ACCESSES = ["read", "write", "execute"] as const;
export const AccessSchema = z.enum(ACCESSES);
export type Access = z.infer<typeof AccessSchema>;

export const ACCESS_LABELS: Record<Access, string> = {
  read: "Read",
  write: "Write",
  execute: "Execute",
};

// ---------------------------------------------------------------------------------------------------------------
// Category: one word per tool, derived from access, destructive and financial.

/** Display order (most to least common-sense ordering, not alphabetical). */
export const CATEGORIES = ["Read", "Write", "Execute", "Destructive", "Financial"] as const;
export const CategorySchema = z.enum(CATEGORIES);
export type Category = z.infer<typeof CategorySchema>;

/** Category, derived in exactly one place: financial, then destructive, then access. */
export function deriveCategory(access: Access, destructive: boolean, financial: boolean): Category {
  if (financial) return "Financial";
  if (destructive) return "Destructive";
  return ACCESS_LABELS[access] as Category;
}

// ---------------------------------------------------------------------------------------------------------------
// Risk.

/** Lowest to highest; also the display order. */
export const RISKS = ["low", "medium", "high", "critical"] as const;
export const RiskSchema = z.enum(RISKS);
export type Risk = z.infer<typeof RiskSchema>;

export const RISK_LABELS: Record<Risk, string> = {
  low: "Low risk",
  medium: "Medium risk",
  high: "High risk",
  critical: "Critical risk",
};

/** Position of a risk in RISKS (low = 0); -1 for anything else. */
export const riskRank = (r: Risk): number => RISKS.indexOf(r);

/** Negative when a is lower than b, 0 when equal, positive when higher (a sort comparator, lowest first). */
export const compareRisk = (a: Risk, b: Risk): number => riskRank(a) - riskRank(b);

/** The higher of two risks (either may be missing). */
export function maxRisk(a: Risk | undefined, b: Risk | undefined): Risk | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareRisk(a, b) >= 0 ? a : b;
}

/** Whether a risk is at or above a threshold. */
export const riskAtLeast = (r: Risk, threshold: Risk): boolean => compareRisk(r, threshold) >= 0;

/**
 * The risk invariants every classification keeps, whoever proposed the risk: critical exactly when the tool is
 * destructive or financial; executing is at least high.
 */
export function reconcileRisk(proposed: Risk, access: Access, destructive: boolean, financial: boolean): Risk {
  let risk = proposed;
  if (destructive || financial) risk = "critical";
  else if (risk === "critical") risk = "high";
  if (access === "execute" && !riskAtLeast(risk, "high")) risk = "high";
  return risk;
}

// ---------------------------------------------------------------------------------------------------------------
// Classifier flags: kept apart from the decision.

/** Flag kinds, as the API filters them: a `poisoning:*` flag is of kind `poisoning`. */
export const FLAG_KINDS = ["poisoning", "annotation_contradiction", "shadowing"] as const;
export const FlagKindSchema = z.enum(FLAG_KINDS);
export type FlagKind = z.infer<typeof FlagKindSchema>;

export const POISONING_PREFIX = "poisoning:";

/** Whether a flag warns of tool poisoning (including shadowing another server's tools). */
export const isPoisoningFlag = (flag: string): boolean => flag.startsWith(POISONING_PREFIX) || flag === "shadowing";

/** The kind of a flag (`poisoning:hidden_instructions` → `poisoning`); undefined for a flag of no known kind. */
export function flagKind(flag: string): FlagKind | undefined {
  if (flag.startsWith(POISONING_PREFIX)) return "poisoning";
  return (FLAG_KINDS as readonly string[]).includes(flag) ? (flag as FlagKind) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Changes to tool definitions.

export const CHANGE_KINDS = [
  "tool_added",
  "tool_removed",
  "description_changed",
  "schema_changed",
  "annotations_changed",
  "classification_changed",
] as const;
export const ChangeKindSchema = z.enum(CHANGE_KINDS);
export type ChangeKind = z.infer<typeof ChangeKindSchema>;

/** Lowest to highest. */
export const SEVERITIES = ["low", "medium", "high"] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

/** Numeric rank of a severity, for "at or above" filters. */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** The severities at or above a minimum, lowest first. */
export const severitiesFrom = (min: Severity): Severity[] =>
  SEVERITIES.filter((s) => severityRank(s) >= severityRank(min));

// ---------------------------------------------------------------------------------------------------------------
// Probe outcomes: what one connection attempt found.

export const PROBE_OUTCOMES = [
  "ok",
  "auth_required",
  "timeout",
  "crashed",
  "install_failed",
  "unsupported_runtime",
  "protocol_error",
  "sandbox_unavailable",
  /** The server asked for configuration (environment, arguments, a stdio flag) that placeholders did not satisfy. */
  "needs_config",
  /** The server needs a live service at start (a database, a cache, network access). */
  "needs_service",
  /** The probe itself failed (our bug), never the server's fault. */
  "internal_error",
] as const;
export const ProbeOutcomeSchema = z.enum(PROBE_OUTCOMES);
export type ProbeOutcome = z.infer<typeof ProbeOutcomeSchema>;

// ---------------------------------------------------------------------------------------------------------------
// A classification, as stored, queued and served.

export const ClassificationSchema = z.object({
  access: AccessSchema,
  destructive: z.boolean(),
  financial: z.boolean(),
  category: CategorySchema,
  risk: RiskSchema,
  confidence: z.number(),
  /** Evidence in words a person can read. */
  signals: z.array(z.string()).describe("Evidence in words a person can read"),
  /** Kept apart from the decision: annotation_contradiction, poisoning:*, shadowing. */
  flags: z.array(z.string()).describe("annotation_contradiction, poisoning:*, shadowing"),
  /** heuristic | llm | llm-cache */
  source: z.string(),
  classifierVersion: z.string(),
});
export type Classification = z.infer<typeof ClassificationSchema>;
