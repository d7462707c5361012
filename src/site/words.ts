import { plural } from "../core/text.js";
import type { Classification, Risk } from "../core/types.js";
import { isPoisoningFlag, RISK_LABELS } from "../core/vocabulary.js";

/** Display order of categories and risks (most to least common-sense ordering, not alphabetical). */
export { CATEGORIES, RISKS } from "../core/vocabulary.js";

/** Whether a classified tool can change anything (the "can modify or destroy data" count). */
export function canModify(c: Classification | null): boolean {
  return !!c && (c.access !== "read" || c.destructive || c.financial);
}

/** What the prose about a tool is made of: its own name, parameters and classification. */
export interface ToolFacts {
  name: string;
  params: readonly { name: string; required: boolean }[];
}

/**
 * Verbs a tool name commonly starts with, in the words a sentence needs ("… deletes …"). Only for prose on the
 * site: the classification itself never reads this table.
 */
const VERB_PHRASES: Record<string, string> = {
  get: "retrieves",
  fetch: "fetches",
  read: "reads",
  list: "lists",
  search: "searches",
  find: "finds",
  query: "queries",
  describe: "describes",
  show: "shows",
  view: "shows",
  check: "checks",
  inspect: "inspects",
  count: "counts",
  download: "downloads",
  export: "exports",
  create: "creates",
  add: "adds",
  insert: "inserts",
  new: "creates",
  update: "updates",
  edit: "edits",
  modify: "modifies",
  patch: "patches",
  set: "sets",
  put: "puts",
  write: "writes",
  save: "saves",
  upload: "uploads",
  replace: "replaces",
  overwrite: "overwrites",
  delete: "deletes",
  remove: "removes",
  drop: "drops",
  destroy: "destroys",
  purge: "purges",
  erase: "erases",
  clear: "clears",
  send: "sends",
  post: "posts",
  publish: "publishes",
  notify: "notifies",
  reply: "replies to",
  invite: "invites",
  run: "runs",
  exec: "runs",
  execute: "executes",
  eval: "evaluates",
  start: "starts",
  launch: "launches",
  deploy: "deploys",
  install: "installs",
  apply: "applies",
  trigger: "triggers",
  stop: "stops",
  kill: "kills",
  terminate: "terminates",
  cancel: "cancels",
  restart: "restarts",
  move: "moves",
  rename: "renames",
  copy: "copies",
  merge: "merges",
  close: "closes",
  archive: "archives",
  refund: "refunds",
  charge: "charges",
  pay: "pays",
  transfer: "transfers",
  navigate: "navigates",
  click: "clicks",
  type: "types into",
  fill: "fills in",
  scale: "scales",
  grant: "grants",
  revoke: "revokes",
};

/** The words of an identifier: snake_case, kebab-case, dots and camelCase split, lower-cased. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

const listWords = (xs: readonly string[]): string =>
  xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;

export { plural };

/**
 * "What it does", from the tool's own evidence: the verb its name starts with (or contains), what it acts on, the
 * parameters it takes, and what the classification found (access, destructive, financial, flags). No boilerplate
 * per category: two tools of one category read differently when their names and parameters differ.
 */
export function whatItDoes(c: Classification | null, t?: ToolFacts): string {
  const parts: string[] = [];
  if (t) {
    const words = nameWords(t.name);
    const vi = words.findIndex((w) => VERB_PHRASES[w] !== undefined);
    const verb = vi >= 0 ? words[vi] : undefined;
    if (verb) {
      const object = words.filter((_, i) => i !== vi).join(" ");
      parts.push(`Going by its name, ${t.name} ${VERB_PHRASES[verb]}${object ? ` ${object}` : " something"}.`);
    }
    if (t.params.length) {
      const shown = t.params.slice(0, 6).map((p) => p.name);
      const req = t.params.filter((p) => p.required).map((p) => p.name);
      parts.push(
        `It takes ${plural(t.params.length, "parameter")}: ${listWords(shown)}${t.params.length > shown.length ? " and more" : ""}${
          req.length
            ? ` (${req.length === t.params.length ? "all required" : `required: ${listWords(req.slice(0, 4))}`})`
            : ""
        }.`,
      );
    } else parts.push("It takes no parameters.");
  }
  if (!c) {
    parts.push("It has not been classified yet, so we make no claim about what it can do.");
    return parts.join(" ");
  }
  if (c.access === "read") parts.push("We found only read evidence: by our classification it changes nothing.");
  if (c.access === "write") parts.push("We found evidence that it creates, changes or sends something.");
  if (c.access === "execute")
    parts.push("We found evidence that it runs code, commands or workloads, so what it does is open-ended.");
  if (c.destructive) parts.push("It can delete or irreversibly overwrite data, or stop something that is running.");
  if (c.financial) parts.push("It can move money or change billing.");
  const poison = c.flags.filter(isPoisoning);
  if (poison.length)
    parts.push(
      `Its definition carries ${plural(poison.length, "warning sign")} of tool poisoning (see the flags above).`,
    );
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
  const because: string[] = [];
  if (c.destructive) because.push("it can destroy or overwrite data for good");
  if (c.financial) because.push("it can move money");
  if (c.access === "execute") because.push("it can run code or commands");
  else if (c.access === "write" && !c.destructive) because.push("it can change things on your behalf");
  if (c.flags.some(isPoisoning)) because.push("its definition shows signs of tool poisoning");
  const lead = because.length ? `It needs a rule because ${listWords(because)}. ` : "";
  return `${lead}${RISK_WHY[c.risk] ?? `Risk: ${c.risk}.`} Our confidence in this classification is ${Math.round(c.confidence * 100)}%.${rule}`;
}

/** One question and its answer for a tool's FAQ. */
export interface Faq {
  q: string;
  a: string;
}

/**
 * The questions people ask about a tool, answered from the same classification and decision as the badge and the
 * policy blocks: the FAQ can never name a risk or an action other than the ones shown beside it.
 */
export function toolFaq(
  c: Classification | null,
  t: ToolFacts,
  server: string,
  decision?: { action: string; reason: string },
  /** whatItDoes(c, t), when the caller has it already (a tool page shows it three times). */
  what: string = whatItDoes(c, t),
): Faq[] {
  const out: Faq[] = [{ q: `What does ${t.name} do?`, a: what }];
  out.push({
    q: `How risky is ${t.name}?`,
    a: c
      ? `${riskLabel(c)}, filed under ${c.category}. ${RISK_WHY[c.risk] ?? ""}`.trim()
      : "It is not classified yet, so we cannot say; treat it as risky until it is.",
  });
  out.push({
    q: `Should I allow, rate-limit or block ${t.name}?`,
    a: decision
      ? `The recommended (balanced) policy says: ${actionWords(decision.action)} — ${decision.reason}. To decide otherwise, pass an overrides file to \`mcp-census policy\` with "${t.name}": {"action": "allow" | "limit" | "approve" | "hide" | "deny"}, then use the file it writes for your client.`
      : "No policy was computed for it in this build.",
  });
  out.push({
    q: `Which server provides ${t.name}?`,
    a: `The MCP server ${server}; its page lists every tool it has and the policy for all of them.`,
  });
  return out;
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
  return c ? (RISK_LABELS[c.risk] ?? `${c.risk} risk`) : "Unclassified";
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
export const isPoisoning = isPoisoningFlag;

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
