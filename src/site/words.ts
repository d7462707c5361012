import type { Category, Classification, Risk } from "../core/types.js";

/** Display order of categories and risks (most to least common-sense ordering, not alphabetical). */
export const CATEGORIES: readonly Category[] = ["Read", "Write", "Execute", "Destructive", "Financial"];
export const RISKS: readonly Risk[] = ["low", "medium", "high", "critical"];

/** Whether a classified tool can change anything (the "can modify or destroy data" count). */
export function canModify(c: Classification | null): boolean {
  return !!c && (c.access !== "read" || c.destructive || c.financial);
}

/** One sentence for "What it does", from the stored classification only. */
export function whatItDoes(c: Classification | null): string {
  if (!c) return "This tool has not been classified yet, so we make no claim about what it can do.";
  const parts: string[] = [];
  if (c.access === "read")
    parts.push("It only reads or looks things up; by our classification it does not change anything.");
  if (c.access === "write") parts.push("It creates, changes or sends something on your behalf.");
  if (c.access === "execute") parts.push("It runs code, commands or workloads whose effects are open-ended.");
  if (c.destructive) parts.push("It can delete or irreversibly overwrite data, or stop something that is running.");
  if (c.financial) parts.push("It can move money or change billing.");
  parts.push(`We file it under ${c.category}.`);
  return parts.join(" ");
}

const RISK_WHY: Record<Risk, string> = {
  low: "A mistaken or manipulated call is unlikely to do lasting harm.",
  medium:
    "A mistaken or manipulated call can change data or expose private content, but the damage is limited or reversible.",
  high: "A mistaken or manipulated call can do damage that is hard to undo, reach other people, or run arbitrary code.",
  critical: "A single mistaken or manipulated call can cause severe, irreversible harm.",
};

/** One paragraph for "Why it needs a policy", from the same classification as the badge and the policy decision. */
export function whyPolicy(c: Classification | null, decision?: { action: string; reason: string }): string {
  const rule = decision ? ` The recommended rule: ${actionWords(decision.action)} (${decision.reason}).` : "";
  if (!c) return `Without a classification there is no evidence either way, so treat it with care.${rule}`;
  return `${RISK_WHY[c.risk] ?? `Risk: ${c.risk}.`} Our confidence in this classification is ${Math.round(c.confidence * 100)}%.${rule}`;
}

/** A policy action in plain language. */
export function actionWords(action: string): string {
  switch (action) {
    case "allow":
      return "allow it";
    case "limit":
      return "allow it within a rate limit";
    case "approve":
      return "ask a person to approve each call";
    case "hide":
      return "hide it from the agent";
    case "deny":
      return "deny it";
    default:
      return action;
  }
}

/** Badge text for a risk (never colour alone). */
export function riskLabel(c: Classification | null): string {
  return c ? `${c.risk[0]?.toUpperCase()}${c.risk.slice(1)} risk` : "Unclassified";
}

const FLAG_WORDS: Record<string, string> = {
  annotation_contradiction: "The author's annotations contradict what the tool appears to do.",
  shadowing: "Its description refers to another server's tools (it may try to shadow them).",
  unsure: "The classifier is unsure of this verdict (no LLM settled it), so recommended policies ask for approval.",
};

/** A classifier flag in plain words; unknown flags are humanised rather than hidden. */
export function flagWords(flag: string): string {
  if (FLAG_WORDS[flag]) return FLAG_WORDS[flag];
  const m = /^poisoning:(.+)$/.exec(flag);
  const body = (m ? m[1] : flag) ?? flag;
  const words = body.replace(/[_-]+/g, " ").trim();
  return m ? `Possible tool poisoning: ${words}.` : `${words[0]?.toUpperCase() ?? ""}${words.slice(1)}.`;
}

/** Whether a flag is a poisoning flag. */
export const isPoisoning = (flag: string): boolean => flag.startsWith("poisoning:") || flag === "shadowing";

export interface AnnotationRow {
  hint: string;
  declared: string;
  ours: string;
  contradicts: boolean;
}

/** The author's annotations side by side with our classification; contradictions marked. */
export function annotationRows(annotations: Record<string, unknown> | null, c: Classification | null): AnnotationRow[] {
  const a = annotations ?? {};
  const shown = (v: unknown) => (v === undefined ? "not declared" : typeof v === "string" ? v : JSON.stringify(v));
  const rows: AnnotationRow[] = [];
  const ro = a.readOnlyHint;
  rows.push({
    hint: "readOnlyHint",
    declared: shown(ro),
    ours: c ? (c.access === "read" ? "read-only" : `not read-only (${c.access})`) : "unclassified",
    contradicts: !!c && typeof ro === "boolean" && ro !== (c.access === "read"),
  });
  const de = a.destructiveHint;
  rows.push({
    hint: "destructiveHint",
    declared: shown(de),
    ours: c ? (c.destructive ? "destructive" : "not destructive") : "unclassified",
    contradicts: !!c && typeof de === "boolean" && de !== c.destructive,
  });
  for (const hint of ["idempotentHint", "openWorldHint"]) {
    if (a[hint] !== undefined) rows.push({ hint, declared: shown(a[hint]), ours: "—", contradicts: false });
  }
  return rows;
}
