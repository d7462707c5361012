import type { Access, Risk } from "../core/types.js";
import { reconcileRisk } from "../core/vocabulary.js";

/**
 * Evidence as data. The heuristics read a tool's name, title, description, parameters, output schema and annotations
 * and record what they found as features; the verdict, its confidence and the signals shown to people are all
 * computed from the features (decide and renderSignal below), never from the wording of a message.
 *
 * How to add a feature (a rule):
 * 1. In extractFeatures (heuristics.ts), where the evidence is read, call
 *    `t.add(id, on, text, to, weight, why)` — id a new stable dotted name ("param.sql.unrestricted": the key a fitted
 *    weight uses), `on` where it fired, `text` what it fired on, `to` what it points to, a hand weight, and `why` in
 *    words a person can check (it becomes the signal). `t.note(...)` records a zero-weight explanation,
 *    `t.risk(...)` a risk level for one access. Never branch on another feature's `why`; read `t.hand` totals or the
 *    parsed name/parameters instead. Words go in lexicon.ts (general vocabulary, never names of tools or servers).
 * 2. A phrase over the description is a regex on the lower-cased text, checked through the description scan:
 *    `ds.test(RE)` / `ds.exec(RE)` on the description, `fs.test(RE)` on its first sentence, and RE added to the
 *    DESC_PHRASES list in heuristics.ts. The scan (phrases.ts) runs RE only when a literal every match must contain
 *    (derived from RE's source, nothing to write by hand) occurs, so rules stay cheap however many there are; the
 *    answer is exactly `RE.test(desc)`. A regex not in the list still works, only slower (a test checks the list).
 *    Other texts (a parameter's description, the name) use RE.test directly.
 * 3. Nothing here changes: decide() sums weights per target; a new target would be the only reason to touch it.
 * 4. Check: `npx vitest run test/unit/classify-*.test.ts` (a rule meant to move verdicts updates the recorded corpus
 *    verdicts with `-u` on classify-corpus-verdicts.test.ts; the file's diff shows which tools moved),
 *    `npx tsx scripts/eval-classifier.ts` (leave-one-server-out accuracy), and
 *    `npx tsx scripts/bench-classifier.ts --baseline <tree before>` (speed, side by side).
 */

/**
 * What a feature points to. `risk` features carry a level and say which access they apply to; `unsure` features say
 * the definition hides what the tool does (a sub-command router), which caps the confidence below UNSURE_BELOW; with a
 * positive weight it also rules out a read verdict.
 */
export type Target = "read" | "write" | "execute" | "destructive" | "financial" | "risk" | "unsure";

/** Where a feature fired. */
export type Where = "name" | "title" | "description" | "parameter" | "annotation" | "output";

export interface Feature {
  /** Stable name of the rule that fired ("name.verb.read", "param.sql.unrestricted"): the key of a fitted weight. */
  id: string;
  on: Where;
  /** The text it fired on (a word, a parameter name, a phrase). */
  text: string;
  to: Target;
  /** Hand weight; a fitted model may replace it by id. Zero-weight features are notes that explain a decision. */
  weight: number;
  /** Why, in words a person can check ("name verb 'get'"). */
  why: string;
  /** For risk features: the level, and the access it applies to. */
  level?: Risk;
  when?: Access;
  /** The feature runs code or commands (decides destructive for execute tools). */
  runsCode?: boolean;
}

/** Weights fitted from labelled data, by feature id; features without an entry keep their hand weight. */
export interface HeuristicModel {
  weights: Record<string, number>;
}

/** Below this heuristic confidence a verdict is "unsure": the LLM is asked, or the policy asks for approval. */
export const UNSURE_BELOW = 0.6;

export const weightOf = (f: Feature, model?: HeuristicModel): number => model?.weights[f.id] ?? f.weight;

/** One line per feature, as shown to users. */
export function renderSignal(f: Feature): string {
  // why + one constant tail: one concatenation (a rope) per signal instead of two.
  if (f.to === "risk") return f.why + riskTail(f.level);
  if (f.weight === 0) return f.why;
  return (
    f.why +
    (f.weight < 0 ? againstTail(f.to) : f.to === "write" && f.id.includes("notread") ? " → not read" : toTail(f.to))
  );
}

/**
 * The constant tails of rendered signals, made once: `why` plus one of these is one concatenation per signal, and no
 * tail is built per tool. Anything not listed renders as the template would (undefined included).
 */
const tails = <K extends string>(keys: readonly K[], text: (k: K) => string): Record<string, string> =>
  Object.fromEntries(keys.map((k) => [k, text(k)]));
const RISK_TAILS = tails(["low", "medium", "high", "critical"], (l) => ` → ${l} risk`);
const TARGETS = ["read", "write", "execute", "destructive", "financial", "unsure"] as const;
const TO_TAILS = tails(TARGETS, (t) => ` → ${t}`);
const AGAINST_TAILS = tails(TARGETS, (t) => ` → against ${t}`);

/** ` → ${level} risk`. */
const riskTail = (level: Risk | undefined): string => RISK_TAILS[level as string] ?? ` → ${level} risk`;
/** ` → ${to}`. */
const toTail = (to: Target): string => TO_TAILS[to] ?? ` → ${to}`;
/** ` → against ${to}`. */
const againstTail = (to: Target): string => AGAINST_TAILS[to] ?? ` → against ${to}`;

export interface Verdict {
  access: Access;
  destructive: boolean;
  financial: boolean;
  risk: Risk;
  confidence: number;
  unsure: boolean;
  /** Conclusions the decision drew, rendered after the features. */
  notes: string[];
}

/**
 * The one decision: sums the weighted features per target and picks access, destructive, financial, risk and a
 * confidence. A read verdict needs positive read evidence; any write or execute evidence against it makes it unsure.
 */
/**
 * The first risk feature that applies to `access` (a top-level function: a callback reading `access` would give
 * decide a context allocated on every call).
 */
function firstRisk(features: readonly Feature[], access: Access): Feature | undefined {
  for (const f of features) if (f.to === "risk" && f.level && (!f.when || f.when === access)) return f;
  return undefined;
}

/** decide's scratch list of notes (copied out). */
const noteScratch: string[] = [];

export function decide(features: readonly Feature[], model?: HeuristicModel): Verdict {
  let read = 0;
  let write = 0;
  let execute = 0;
  let destructive = 0;
  let financial = 0;
  let runsCode = false;
  let notReadSeen = false;
  let opaque: Feature | undefined;
  let hidesWrites = false;
  for (const f of features) {
    const w = weightOf(f, model);
    switch (f.to) {
      case "read":
        read += w;
        break;
      case "write":
        write += w;
        if (w > 0) notReadSeen = true;
        break;
      case "execute":
        execute += w;
        if (w > 0) notReadSeen = true;
        if (f.runsCode && w > 0) runsCode = true;
        break;
      case "destructive":
        destructive += w;
        break;
      case "financial":
        financial += w;
        break;
      case "unsure":
        opaque ??= f;
        if (w > 0) hidesWrites = true;
        break;
    }
  }
  // Collected in a scratch list and copied out at their exact number (pushing onto [] reserves 16 slots).
  const notes = noteScratch;
  let nn = 0;
  const notRead = write + execute;
  let access: Access;
  let strength: number;
  let opposing: number;
  if (read <= 0 && notRead <= 0) {
    access = "write";
    strength = 0;
    opposing = 0;
    notes[nn++] = "no evidence either way → not read (unknown tools are not allowed as read)";
  } else if (read > 0 && ((read >= notRead + 2 && read >= 2 * notRead) || notRead <= 0)) {
    access = "read";
    strength = read;
    opposing = Math.max(0, notRead);
  } else {
    access = execute >= 3 ? "execute" : "write";
    strength = notRead;
    opposing = Math.max(0, read);
    if (read > 0 && read >= notRead) notes[nn++] = "read and write evidence conflict → leaning not read";
  }

  // Evidence that the tool runs code, a command or a workload is never outweighed by read words: an optional code
  // parameter makes the tool execute whatever its name says.
  if (access === "read" && execute > 0) {
    access = execute >= 3 ? "execute" : "write";
    strength = notRead;
    opposing = Math.max(0, read);
    notes[nn++] = "runs code, commands or workloads → not read, whatever the read words say";
  }
  // A definition that hides what the tool can do (a router over unlisted sub-commands) is never read, unless
  // everything it names reads (then the verdict stays unsure below).
  if (hidesWrites && opaque && access === "read") {
    access = "write";
    notes[nn++] = `${opaque.why} → not read`;
  }

  let isDestructive = destructive >= 2 && access !== "read";
  if (access === "execute" && !isDestructive && runsCode) {
    isDestructive = true;
    notes[nn++] = "runs arbitrary code or commands with write access → destructive";
  }
  const isFinancial = financial >= 2 && access !== "read";

  let confidence = strength <= 0 ? 0.3 : 0.35 + 0.55 * (1 - Math.exp(-strength / 3));
  if (opposing > 0) {
    confidence -= 0.3 * Math.min(1, opposing / Math.max(strength, 1));
    // Evidence both ways: a verdict that is not overwhelming is left to the LLM (or a person).
    if (opposing * 3 > strength) confidence = Math.min(confidence, UNSURE_BELOW - 0.05);
    notes[nn++] = `conflicting evidence (${access === "read" ? "not-read" : "read"} score ${opposing})`;
  }
  if (access !== "read" && destructive > 0 && destructive < 2) confidence -= 0.05;
  // Fail safe: a read with any write or execute evidence is never a sure read.
  if (access === "read" && notReadSeen && confidence >= UNSURE_BELOW) {
    confidence = UNSURE_BELOW - 0.05;
    notes[nn++] = "write or execute evidence present → a read verdict is unsure";
  }
  if (opaque && confidence >= UNSURE_BELOW) {
    confidence = UNSURE_BELOW - 0.1;
    notes[nn++] = `${opaque.why} → unsure`;
  }
  // Rounded down, so a verdict just below the threshold never rounds up onto it.
  confidence = Math.floor(Math.min(0.97, Math.max(0.05, confidence)) * 100 + 1e-9) / 100;

  // The risk invariants (critical exactly when destructive or financial, executing at least high) are the
  // vocabulary's (reconcileRisk, which an LLM's answer goes through too); the risk features propose the rest.
  let proposed: Risk = "low";
  if (isDestructive || isFinancial) {
    // critical, by reconcileRisk
  } else if (access === "execute") notes[nn++] = "executes → high risk";
  else {
    // Risk features are recorded most telling first: the first one that applies to this access sets the level.
    const best = firstRisk(features, access);
    proposed = best?.level ?? (access === "read" ? "low" : "medium");
    if (best) notes[nn++] = renderSignal(best);
    else
      notes[nn++] =
        access === "read" ? "reads public or non-sensitive data → low risk" : "a limited write → medium risk";
  }
  const risk = reconcileRisk(proposed, access, isDestructive, isFinancial);
  return {
    access,
    destructive: isDestructive,
    financial: isFinancial,
    risk,
    confidence,
    unsure: confidence < UNSURE_BELOW,
    notes: notes.slice(0, nn),
  };
}
