import type { Access, Category, Classification, Risk, ToolInput } from "../core/types.js";
import { detectFlags } from "./flags.js";
import {
  ASSOCIATION_OBJECTS,
  BASE_VERBS,
  CODE_PARAMS,
  GERUNDS,
  METADATA_OBJECTS,
  NOUN_LIKE,
  SENSITIVE_OBJECTS,
  SQL_PARAMS,
  VERBS,
  type VerbClass,
  WEAK_READ_VERBS,
} from "./lexicon.js";
import { CLASSIFIER_VERSION } from "./version.js";

/** One input parameter as the heuristics see it. */
export interface ParamInfo {
  name: string;
  /** Lower-cased name with separators folded to "_". */
  key: string;
  type: string;
  enumValues: string[];
  description: string;
}

/** Splits a tool name on snake, camel, kebab, dot, slash and space boundaries into lower-case words. */
export function splitName(name: string): string[] {
  const spaced = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .replace(/([a-zA-Z])(\d)/g, "$1 $2");
  const out: string[] = [];
  for (const part of spaced.split(/[^A-Za-z0-9]+/)) if (part) out.push(part.toLowerCase());
  return out;
}

/** Reads the top-level properties of a JSON-schema-like input schema; odd shapes yield no parameters. */
export function readParams(schema: unknown): ParamInfo[] {
  if (!schema || typeof schema !== "object") return [];
  const props = (schema as { properties?: unknown }).properties;
  if (!props || typeof props !== "object" || Array.isArray(props)) return [];
  const out: ParamInfo[] = [];
  for (const [name, raw] of Object.entries(props as Record<string, unknown>)) {
    const p = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
    const type = typeof p.type === "string" ? p.type : Array.isArray(p.type) ? p.type.join("|") : "";
    let enumValues: string[] = [];
    const en = Array.isArray(p.enum) ? p.enum : (p.items as { enum?: unknown } | undefined)?.enum;
    if (Array.isArray(en)) enumValues = en.filter((v): v is string => typeof v === "string").slice(0, 64);
    const description = typeof p.description === "string" ? p.description.slice(0, 500) : "";
    out.push({ name, key: name.toLowerCase().replace(/[^a-z0-9]+/g, "_"), type, enumValues, description });
  }
  return out;
}

/** Category, derived in exactly one place: financial, then destructive, then access. */
export function deriveCategory(access: Access, destructive: boolean, financial: boolean): Category {
  if (financial) return "Financial";
  if (destructive) return "Destructive";
  return access === "read" ? "Read" : access === "write" ? "Write" : "Execute";
}

// ---------------------------------------------------------------------------------------------------------------
// Phrases. Kept few and compiled once: the heuristics must classify tens of thousands of tools per second.

const SQL_WORDS =
  /\bsql\b|\bselect\b[^.;]{1,120}\bfrom\b|snowflake|athena|clickhouse|bigquery|postgres|\bpsql\b|mysql|sqlite|mariadb|redshift|duckdb|\btrino\b|\bpresto\b|influxql|\bflux\b|\bddl\b|\bdml\b|cypher|mssql|t-sql|databricks|\bhive\b|cassandra/;
const SQL_READONLY =
  /\bselect (quer|statement)|only select|select[- ]only|select statements? only|read[- ]only|\bonly (read|select|query)|rejects? (any )?(write|mutat|ddl|dml|non-select)|cannot (modify|mutate|write)|does not (modify|mutate|write)|no (writes|mutations)/;
const SQL_WRITE =
  /\b(insert|update|delete|drop|alter|truncate|upsert)\b[^.]{0,40}\b(quer|statement|sql|command)|\bddl\b|\bdml\b|modify (the )?schema|manage data|\bwrite (cypher|sql|quer)|any sql|arbitrary (sql|quer|cypher)|raw sql|schema\/admin|admin operations/;
const SAFE_QUERY_LANG =
  /promql|logql|\bjql\b|\bcql\b|lucene|\bkql\b|traceql|elasticsearch|opensearch|graphite|jsonpath|\bjq\b|search syntax|full text search|metrics? quer|log quer/;
const EXEC_PHRASE =
  /\b(execut(e|es|ing)|run(s|ning)?|evaluat(e|es|ing)|eval)\b[^.]{0,40}\b(arbitrary|shell|bash|terminal|javascript|python|code|commands?|scripts?|programs?|cells?|notebook)\b|arbitrary (code|commands?|shell|scripts?|programs?)|shell commands?|terminal commands?|\bsubprocess\b|command[- ]line/;
const BROWSER_JS = /\b(browser|page|console|dom|web ?page|playwright|puppeteer)\b/;
const AGENT_DELEGATION =
  /\b(assistant|agent)\b[^.]{0,80}\b(may|can|will|to) (use|call|invoke|run) (its own |other )?(tools|actions)|delegat\w* (a |the )?(task|prompt)s? to/;
const DESTRUCTIVE_PHRASE =
  /cannot be undone|can ?not be reversed|irreversibl|permanently (delete|remove|destroy|erase|purge)|\boverwrit|destructive operation|\bwipes?\b|\bpurges?\b|\berases?\b/;
const NEGATED_DESTRUCTIVE = /(not|never|won't|will not|does not|doesn't)\s+(be\s+)?(overwrit|delet|destroy|remov)/;
const READONLY_PHRASE =
  /\bread[- ]only\b(?! mode)|does not (modify|change|alter|write)|doesn't (modify|change|write)|no side[- ]effects|without (making )?(any )?(changes|modif)|\bdry[- ]run\b|safe to call/;
const WAITS_FOR_JOB =
  /\bwaits? (for|until) (the |an? )?[\w -]{0,40}(to (complete|finish)|completes?|finishes?|is done)/;
const WHOLESALE_SECRETS =
  /\ball (the |of the )?(environment variables|env vars|secrets|credentials|cookies|api keys|passwords|tokens)\b|\bkubeconfig\b|(dump|export|return|list)s? (the )?(entire |whole |full )?(environment|secrets|credentials|cookies)\b/;
const MESSAGE_PHRASE =
  /\bsends? (an? |the )?[\w -]{0,30}(message|email|e-mail|sms|text|notification|invitation|invite|reminder|dm|reply)|\bpost(s)? (an? |the )?[\w -]{0,20}(message|tweet|status|reply)|\bnotif(y|ies) /;
const MONEY_MOVE =
  /\b(refunds?|pays?|charges?|transfers?|captures?|withdraws?|debits?|sends?)\s+(the\s+|an?\s+)?(money|funds|payments?|amount|authori[sz]ed funds)\b/;
const MONEY_WORDS =
  /\b(payments?|funds|money|refunds?|payouts?|charges?|transfers? (funds|money)|purchases?|withdraw|balance)\b/;

// ---------------------------------------------------------------------------------------------------------------

const SKIP_DESC_WORDS = new Set([
  "this",
  "tool",
  "tools",
  "to",
  "use",
  "used",
  "using",
  "allows",
  "allow",
  "lets",
  "let",
  "you",
  "a",
  "an",
  "the",
  "will",
  "can",
  "it",
  "that",
  "which",
  "helps",
  "help",
  "for",
  "api",
  "function",
  "is",
  "has",
  "and",
  "or",
  "please",
  "simply",
  "quickly",
  "easily",
  "also",
]);

/** Description-only read verbs ("Returns the sum", "Provides details"). */
const DESC_READ = new Set(["return", "returns", "provide", "provides", "give", "gives", "obtain", "obtains", "shows"]);

/** Nouns that, as a whole name, announce information rather than an action ("pg_info", "server_status"). */
const INFO_NOUNS = new Set([
  "info",
  "information",
  "details",
  "status",
  "stats",
  "statistics",
  "logs",
  "metrics",
  "health",
  "history",
  "schema",
  "tree",
  "summary",
  "overview",
  "version",
  "versions",
  "usage",
  "docs",
  "documentation",
  "locks",
  "outliers",
  "ps",
  "balance",
  "whoami",
  "me",
  "thinking",
  "sequentialthinking",
  "analysis",
  "healthcheck",
]);

const OPS_PARAMS = new Set(["operation", "operations", "action", "actions", "op", "run_action", "verb", "mode"]);
const MULTI_OP_VERBS = new Set(["manage", "handle", "perform", "process", "do", "make"]);
const RUN_READ_OBJECTS = new Set([
  "query",
  "queries",
  "report",
  "reports",
  "search",
  "analysis",
  "check",
  "checks",
  "scan",
  "audit",
  "lint",
  "diagnostic",
  "diagnostics",
  "health",
  "inference",
  "prediction",
]);
const LAUNCH_OBJECTS = new Set([
  "helm",
  "chart",
  "charts",
  "run",
  "runs",
  "pipeline",
  "pipelines",
  "build",
  "builds",
  "workflow",
  "workflows",
  "job",
  "jobs",
  "deployment",
  "deployments",
  "container",
  "containers",
  "pod",
  "pods",
  "helm",
  "chart",
  "manifest",
  "task",
  "tasks",
  "action",
  "actions",
  "workload",
  "workloads",
  "function",
  "lambda",
  "playbook",
]);
const CREATE_LAUNCH_OBJECTS = new Set([
  "run",
  "runs",
  "deployment",
  "deployments",
  "container",
  "containers",
  "pod",
  "build",
  "builds",
]);
const LAUNCH_OBJECTS_RE =
  /\b(builds?|pipelines?|workflows?|jobs?|deployments?|containers?|pods?|helm|charts?|workloads?|playbooks?)\b/;
const LAUNCH_VERBS = new Set([
  "trigger",
  "dispatch",
  "start",
  "build",
  "apply",
  "install",
  "upgrade",
  "launch",
  "kick",
]);
/** Verbs that only carry the noun after them ("Performs a search", "Makes a request"). */
const LIGHT_VERBS = new Set([
  "perform",
  "performs",
  "make",
  "makes",
  "do",
  "does",
  "conduct",
  "conducts",
  "carry",
  "carries",
]);
const LIGHT_READ_NOUNS =
  /^(search|searches|query|queries|lookup|analysis|analyses|scan|check|inspection|calculation|inference|prediction|evaluation|review|audit)$/;
const MONEY_VERBS = new Set([
  "pay",
  "pays",
  "charge",
  "charges",
  "refund",
  "refunds",
  "purchase",
  "purchases",
  "buy",
  "buys",
  "sell",
  "sells",
  "withdraw",
  "withdraws",
  "deposit",
  "deposits",
  "payout",
  "payouts",
]);
const MONEY_VERBS_NEED_CONTEXT = new Set(["capture", "captures", "transfer", "transfers", "send", "place"]);
const BILLING_OBJECTS = new Set([
  "payment",
  "payments",
  "refund",
  "refunds",
  "payout",
  "payouts",
  "charge",
  "charges",
  "subscription",
  "subscriptions",
  "billing",
  "price",
  "prices",
  "pricing",
  "funds",
  "money",
  "trade",
  "trades",
  "order",
  "orders",
  "plan",
]);
const PERMISSION_OBJECTS = new Set([
  "permission",
  "permissions",
  "role",
  "roles",
  "access",
  "acl",
  "acls",
  "restriction",
  "restrictions",
  "privilege",
  "privileges",
  "member",
  "members",
  "membership",
  "collaborator",
  "collaborators",
  "owner",
  "owners",
  "security",
  "firewall",
  "password",
  "mfa",
  "sharing",
  "secret",
  "secrets",
  "credential",
  "credentials",
  "token",
  "tokens",
  "key",
  "keys",
  "policy",
  "admin",
]);
const PERMISSION_VERBS = new Set(["grant", "grants", "revoke", "revokes", "share", "shares", "invite", "invites"]);
const MESSAGE_VERBS = new Set([
  "send",
  "sends",
  "reply",
  "replies",
  "notify",
  "notifies",
  "invite",
  "invites",
  "broadcast",
  "announce",
  "forward",
  "remind",
  "respond",
]);
const MESSAGE_OBJECTS = new Set([
  "message",
  "messages",
  "email",
  "emails",
  "mail",
  "sms",
  "text",
  "dm",
  "chat",
  "notification",
  "notifications",
  "tweet",
  "reminder",
  "invitation",
  "reply",
]);
const HARMLESS_VERBS = new Set([
  "hover",
  "focus",
  "resize",
  "scroll",
  "toggle",
  "star",
  "unstar",
  "react",
  "like",
  "upvote",
  "downvote",
  "bookmark",
  "pin",
  "unpin",
  "stage",
  "unstage",
  "use",
  "activate",
  "deactivate",
  "checkout",
  "mark",
]);
const HARMLESS_OBJECTS = new Set(["reaction", "reactions", "emoji", "insight", "memo", "scratchpad", "observations"]);
const HARMLESS_PHRASE =
  /knowledge graph|\bscratch ?pad\b|\bmemo\b|in-memory|simulated|staging area|\bsession[- ]scoped\b|\bthis session\b/;
const DESTRUCTIVE_PARAMS = new Set([
  "reset",
  "purge",
  "wipe",
  "drop",
  "delete",
  "hard_delete",
  "force_delete",
  "permanent",
  "permanently",
  "destroy",
  "is_destroy",
  "delete_all",
]);
const EDIT_IN_PLACE_VERBS = new Set(["write", "writes", "edit", "edits", "overwrite", "replace", "replaces"]);
const EDIT_IN_PLACE_OBJECTS = new Set(["file", "files", "cell", "source", "content", "contents", "text", "comment"]);
const VERSIONED_PHRASE = /\b(commit|repository|version history|keeps? (a )?history|versioned|revision)/;
const STOP_TOKENS = new Set([
  "by",
  "for",
  "from",
  "with",
  "all",
  "id",
  "ids",
  "a",
  "an",
  "the",
  "of",
  "to",
  "in",
  "on",
]);

type Bucket = "read" | "write" | "execute";

/**
 * One pass over the description finds which families of phrases could match; only those regexes then run. Most
 * descriptions trigger none, which keeps the classifier above 50,000 tools/s.
 */
const TRIGGER =
  /exec|run|eval|shell|command|subprocess|arbitrary|terminal|agent|assistant|delegat|undone|revers|permanent|overwrit|destructive|wipe|purge|erase|read.only|does not|doesn't|side.effect|without|dry|safe to call|wait|fund|money|payment|amount|crud|replace/g;
const TRIGGER_FAMILY: Record<string, string> = {
  exec: "exec",
  run: "exec",
  eval: "exec",
  shell: "exec",
  command: "exec",
  subprocess: "exec",
  arbitrary: "exec",
  terminal: "exec",
  agent: "agent",
  assistant: "agent",
  delegat: "agent",
  undone: "destr",
  revers: "destr",
  permanent: "destr",
  overwrit: "destr",
  destructive: "destr",
  wipe: "destr",
  purge: "destr",
  erase: "destr",
  "does not": "ro",
  "doesn't": "ro",
  without: "ro",
  dry: "ro",
  "safe to call": "ro",
  wait: "wait",
  fund: "money",
  money: "money",
  payment: "money",
  amount: "money",
  crud: "crud",
  replace: "replace",
};

function triggerFamilies(desc: string): Set<string> {
  const out = new Set<string>();
  TRIGGER.lastIndex = 0;
  for (let m = TRIGGER.exec(desc); m !== null; m = TRIGGER.exec(desc)) {
    const w = m[0];
    out.add(TRIGGER_FAMILY[w] ?? (w.startsWith("read") ? "ro" : w.startsWith("side") ? "ro" : "other"));
    if (w === "overwrit") out.add("replace");
  }
  return out;
}

/** Mutable tally built while reading the tool; turned into a Classification at the end. */
class Tally {
  read = 0;
  write = 0;
  execute = 0;
  destructive = 0;
  financial = 0;
  signals: string[] = [];
  against: string[] = [];
  add(bucket: Bucket, weight: number, signal: string): void {
    this[bucket] += weight;
    this.signals.push(signal);
  }
  destroy(weight: number, signal: string): void {
    this.destructive += weight;
    this.signals.push(signal);
  }
}

function verbBucket(cls: VerbClass): Bucket {
  return cls === "read" ? "read" : cls === "execute" ? "execute" : "write";
}

interface NameParse {
  tokens: string[];
  verbIndex: number;
  verb?: string;
  verbClass?: VerbClass;
  objects: string[];
  secondary: Array<[string, VerbClass]>;
}

function parseName(name: string): NameParse {
  const tokens = splitName(name);
  let idx = -1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (BASE_VERBS.has(t)) {
      idx = i;
      break;
    }
  }
  if (idx < 0 && tokens.length === 1) {
    // Run-together names ("getuser", "listfiles"): accept a known verb as a prefix of a long single word.
    const t = tokens[0]!;
    for (const cand of [t.slice(0, 3), t.slice(0, 4), t.slice(0, 5), t.slice(0, 6), t.slice(0, 7)]) {
      if (t.length >= cand.length + 3 && BASE_VERBS.has(cand) && !NOUN_LIKE.has(cand)) {
        return {
          tokens,
          verbIndex: 0,
          verb: cand,
          verbClass: BASE_VERBS.get(cand)!,
          objects: [t.slice(cand.length)],
          secondary: [],
        };
      }
    }
  }
  if (idx < 0) return { tokens, verbIndex: -1, objects: tokens.filter((t) => !STOP_TOKENS.has(t)), secondary: [] };
  const verb = tokens[idx]!;
  const objects: string[] = [];
  const secondary: Array<[string, VerbClass]> = [];
  for (let i = idx + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    const cls = BASE_VERBS.get(t);
    const prev = tokens[i - 1];
    const joined = prev === "or" || prev === "and";
    if (cls && (joined || (!NOUN_LIKE.has(t) && cls !== "read"))) {
      secondary.push([t, cls]);
      continue;
    }
    if (!STOP_TOKENS.has(t) && t !== "or" && t !== "and") objects.push(t);
  }
  return { tokens, verbIndex: idx, verb, verbClass: BASE_VERBS.get(verb)!, objects, secondary };
}

const NEGATION = /\b(not|never|no|without|cannot|can't|don't|doesn't|won't)\b/;
const OTHER_TOOL_REF = /\buse [a-z0-9]+_[a-z0-9_]+|\(use [a-z0-9_]+\)/;

/** Sentences that state what the tool can do: skips negated ones and "when NOT to use" sections about other tools. */
function capabilityLines(desc: string): string[] {
  const out: string[] = [];
  let inNot = false;
  for (const line of desc.split(/\n|(?<=[.!?])\s+/)) {
    const l = line.trim();
    if (!l) {
      inNot = false;
      continue;
    }
    if (/when not to use|do not use|don't use/.test(l)) {
      inNot = true;
      continue;
    }
    if (inNot && /^[-*•]/.test(l)) continue;
    inNot = false;
    if (NEGATION.test(l) || OTHER_TOOL_REF.test(l)) continue;
    out.push(l);
  }
  return out;
}

// Sign-posts that precede the real opening ("START HERE for X:", "REQUIRED FIRST:", "WORKFLOW: a -> b.").
const SIGNPOST =
  /^\s*(start here|required first|important|note|workflow|discovery|tip|hint|deprecated|usage|beta|experimental)\b[^:\n]{0,40}:\s*/;

function firstSentence(desc: string): string {
  desc = desc.replace(SIGNPOST, "");
  const m = /[.!?\n](\s|$)/.exec(desc);
  return (m ? desc.slice(0, m.index) : desc).slice(0, 240);
}

function descWords(text: string, limit: number): string[] {
  const out: string[] = [];
  for (const w of text.split(/[^a-z0-9'-]+/)) {
    if (w) out.push(w);
    if (out.length >= limit) break;
  }
  return out;
}

/** Classifies a tool from its name, description, schemas and annotations. Pure and deterministic. */
export function classifyHeuristic(tool: ToolInput): Classification {
  const t = new Tally();
  const name = parseName(tool.name ?? "");
  const params = readParams(tool.inputSchema);
  const paramKeys = new Set(params.map((p) => p.key));
  const rawDesc = (tool.description ?? "").slice(0, 4000);
  const desc = rawDesc.toLowerCase();
  const ann = tool.annotations && typeof tool.annotations === "object" ? tool.annotations : undefined;
  const annTitle = typeof ann?.title === "string" ? ann.title : "";
  const title = `${tool.title ?? ""} ${annTitle}`.trim().toLowerCase();
  const first = firstSentence(desc);
  const fam = triggerFamilies(desc);
  const firstWords = descWords(first, 14);
  const objects = name.objects;
  const objSet = new Set(objects);
  const allNameTokens = new Set(name.tokens);

  // --- name verb -------------------------------------------------------------------------------------------
  let primary: VerbClass | undefined = name.verbClass;
  let weakNameVerb = false;
  const verb = name.verb;
  if (verb && primary) {
    if (primary === "run") {
      if (objects.some((o) => RUN_READ_OBJECTS.has(o))) {
        t.add("read", 2, `name verb '${verb}' runs a ${objects.find((o) => RUN_READ_OBJECTS.has(o))} → read`);
        primary = "read";
      } else {
        t.add("execute", 3, `name verb '${verb}' runs something → execute`);
        primary = "execute";
      }
    } else if (primary === "read") {
      t.add("read", WEAK_READ_VERBS.has(verb) ? 2 : 3, `name verb '${verb}' → read`);
    } else if (primary === "write" && name.verbIndex > 0 && NOUN_LIKE.has(verb)) {
      // After a prefix, a word like "block" or "place" is usually a noun ("rpc_block_info").
      t.add("write", 1, `name word '${verb}' may be a verb → weak write`);
      weakNameVerb = true;
    } else if (primary === "write") {
      if (
        ["trigger", "dispatch", "start", "build", "apply"].includes(verb) &&
        objects.some((o) => LAUNCH_OBJECTS.has(o))
      )
        t.add("execute", 3, `name verb '${verb}' launches a ${objects.find((o) => LAUNCH_OBJECTS.has(o))} → execute`);
      else if (verb === "create" && objects.some((o) => CREATE_LAUNCH_OBJECTS.has(o)))
        t.add("execute", 3, `name '${verb} ${objects.join(" ")}' launches a workload → execute`);
      else t.add("write", 3, `name verb '${verb}' → write`);
    } else if (primary === "destructive") {
      const assoc = objects.find((o) => ASSOCIATION_OBJECTS.has(o));
      t.add("write", 3, `name verb '${verb}' → write`);
      if (assoc && ["remove", "unlink", "removes", "detach"].includes(verb))
        t.signals.push(`'${verb}' of a ${assoc} only breaks an association → not destructive`);
      else t.destroy(3, `name verb '${verb}' → destructive`);
    } else if (primary === "execute") {
      t.add("execute", 3, `name verb '${verb}' → execute`);
    }
  } else if (name.tokens.some((x) => INFO_NOUNS.has(x))) {
    t.add("read", 2, `name is an information noun ('${name.tokens.find((x) => INFO_NOUNS.has(x))}') → read`);
  }
  for (const [v, cls] of name.secondary) {
    if (cls === "destructive") {
      t.add("write", 2, `name also says '${v}' → write`);
      t.destroy(2, `name also says '${v}' → destructive`);
    } else if (cls === "execute" || cls === "run") t.add("execute", 3, `name also says '${v}' → execute`);
    else if (cls === "write") t.add("write", 2, `name also says '${v}' → write`);
  }
  if (allNameTokens.has("on") || allNameTokens.has("off")) {
    if (!verb || primary === "write") t.add("write", 1, "name switches something on/off → write");
  }

  // --- description: opening verb ------------------------------------------------------------------------------
  let descVerb: string | undefined;
  let descClass: VerbClass | undefined;
  for (let i = 0; i < firstWords.length; i++) {
    const w = firstWords[i]!;
    if (SKIP_DESC_WORDS.has(w)) continue;
    if (LIGHT_VERBS.has(w)) {
      const next = firstWords.slice(i + 1, i + 4).find((x) => LIGHT_READ_NOUNS.test(x));
      if (next) {
        descVerb = `${w} ${next}`;
        descClass = "read";
        break;
      }
    }
    if (DESC_READ.has(w)) {
      descVerb = w;
      descClass = "read";
      break;
    }
    const cls = VERBS.get(w);
    if (cls && !(NOUN_LIKE.has(w) && w !== firstWords[0])) {
      descVerb = w;
      descClass = cls;
      break;
    }
  }
  if (descVerb && descClass) {
    const weight = verb && !weakNameVerb ? 2 : 3;
    if (descClass === "read")
      t.add("read", WEAK_READ_VERBS.has(descVerb) ? 1 : weight, `description opens with '${descVerb}' → read`);
    else if (descClass === "destructive") {
      const assoc = objects.some((o) => ASSOCIATION_OBJECTS.has(o));
      t.add("write", weight, `description opens with '${descVerb}' → write`);
      if (!assoc) t.destroy(2, `description opens with '${descVerb}' → destructive`);
    } else if (descClass === "execute" || descClass === "run") {
      // "Executes a log query", "Runs a search": what is run decides.
      const rest = first.slice(
        first.indexOf(descVerb) + descVerb.length,
        first.indexOf(descVerb) + descVerb.length + 60,
      );
      if (/\b(quer|search|report|analys|check)/.test(rest)) t.add("read", 1, `description runs a query/search → read`);
      else t.add("execute", weight, `description opens with '${descVerb}' → execute`);
    } else if (LAUNCH_VERBS.has(descVerb.replace(/s$/, "")) && LAUNCH_OBJECTS_RE.test(first)) {
      t.add("execute", weight, `description ${descVerb} a build, pipeline, job or workload → execute`);
    } else t.add("write", weight, `description opens with '${descVerb}' → write`);
  }
  // A title usually restates the name; it only counts when the name has no verb, and a disagreement is recorded.
  if (title) {
    const tv = splitName(title).find((w) => BASE_VERBS.has(w));
    if (tv) {
      const cls = BASE_VERBS.get(tv)!;
      const b = cls === "run" ? "execute" : verbBucket(cls);
      if (!verb) t.add(b, 2, `title verb '${tv}' → ${b}`);
      else if (primary && b !== verbBucket(primary) && !(b === "execute" && primary === "run"))
        t.against.push(`title verb '${tv}' disagrees with name verb '${verb}'`);
    }
  }

  // --- multi-operation tools ------------------------------------------------------------------------------------
  const opsParam = params.find((p) => OPS_PARAMS.has(p.key));
  const multiOp = !!opsParam || (verb !== undefined && MULTI_OP_VERBS.has(verb)) || fam.has("crud");
  if (multiOp) {
    let opWrite = false;
    let opDestroy = false;
    let opRead = false;
    for (const v of opsParam?.enumValues ?? []) {
      const w = splitName(v)[0];
      const cls = w ? VERBS.get(w) : undefined;
      if (cls === "destructive") opDestroy = true;
      else if (cls === "write") opWrite = true;
      else if (cls === "execute" || cls === "run") opWrite = true;
      else if (cls === "read") opRead = true;
    }
    if (fam.has("crud")) opDestroy = true;
    for (const line of capabilityLines(desc)) {
      for (const w of line.split(/[^a-z]+/)) {
        const g = GERUNDS.get(w) ?? (VERBS.get(w) === "destructive" ? "destructive" : undefined);
        if (g === "destructive") opDestroy = true;
        else if (g === "write") opWrite = true;
      }
    }
    const quoted = desc.match(
      /['"`](create|update|delete|remove|add|set|patch|put|post|modify|write|upload|send|expire|cancel|purge)['"`]/g,
    );
    if (quoted) {
      for (const q of quoted) {
        const w = q.slice(1, -1);
        if (["delete", "remove", "purge", "cancel"].includes(w)) opDestroy = true;
        else opWrite = true;
      }
    }
    if (opDestroy) {
      t.add("write", 3, "operations include deleting → write");
      t.destroy(2, "operations include deleting → destructive");
    } else if (opWrite) t.add("write", 3, "operations include creating or updating → write");
    else if (opRead && opsParam) t.add("read", 1, `'${opsParam.name}' operations are all reads → read`);
    if (!opDestroy && !opWrite && verb && MULTI_OP_VERBS.has(verb) && primary === "write") {
      // "Manage X" with only read operations described says little by itself.
      t.write -= 3;
      t.signals.push(`'${verb}' lists no write operation → no evidence from the verb`);
    }
  }

  // --- parameters ----------------------------------------------------------------------------------------------
  const readVerbStrong = primary === "read" && verb !== undefined && !WEAK_READ_VERBS.has(verb);
  const runsVerb =
    primary === "execute" || primary === "run" || name.secondary.some(([, c]) => c === "execute" || c === "run");
  const writesStored =
    primary === "write" && !runsVerb && !["trigger", "dispatch", "start", "apply"].includes(verb ?? "");
  const hasQueryParam = params.some(
    (p) =>
      p.key === "query" || p.key === "q" || p.key.endsWith("_query") || p.key === "command" || p.key === "statement",
  );
  const sqlParam = params.find((p) => SQL_PARAMS.has(p.key));
  const queryNamed =
    allNameTokens.has("query") ||
    allNameTokens.has("sql") ||
    allNameTokens.has("statement") ||
    allNameTokens.has("psql") ||
    allNameTokens.has("cypher") ||
    primary === "execute" ||
    primary === "run" ||
    name.verb === "query" ||
    !verb;
  const paramText =
    params.length > 0
      ? params
          .map((p) => p.description)
          .join(" ")
          .toLowerCase()
      : "";
  let sqlHandled = false;
  if ((sqlParam || (hasQueryParam && queryNamed)) && (sqlParam || SQL_WORDS.test(desc) || SQL_WORDS.test(paramText))) {
    sqlHandled = true;
    const what = sqlParam ? `parameter '${sqlParam.name}' takes SQL` : "takes a SQL query";
    const readOnly = SQL_READONLY.test(desc) || SQL_READONLY.test(paramText);
    const writes = SQL_WRITE.test(desc) || SQL_WRITE.test(paramText);
    if (readOnly && !writes) t.add("read", 3, `${what}, restricted to read-only statements → read`);
    else if (writesStored && !writes) t.add("write", 1, `${what} for a stored definition → write`);
    else {
      t.add("execute", 4, `${what} with no read-only restriction → execute`);
      t.destroy(3, "arbitrary SQL can modify or drop data → destructive");
    }
  } else if (hasQueryParam && SAFE_QUERY_LANG.test(desc)) {
    t.add("read", 1, "query language that cannot mutate (search/metrics/logs) → read");
  }

  const execPhrase = fam.has("exec") && EXEC_PHRASE.test(desc);
  const codeParam = params.find((p) => CODE_PARAMS.has(p.key));
  if (codeParam && !sqlHandled) {
    const pdesc = codeParam.description.toLowerCase();
    const runsIt = runsVerb || !verb || execPhrase || /\b(execut|run|evaluat)/.test(pdesc);
    if (readVerbStrong && !execPhrase) t.signals.push(`parameter '${codeParam.name}' is data for a read verb`);
    else if (writesStored && !execPhrase) t.add("write", 1, `parameter '${codeParam.name}' is stored, not run → write`);
    else if (runsIt) t.add("execute", 3, `parameter '${codeParam.name}' takes code or a command to run → execute`);
    else t.add("execute", 1, `parameter '${codeParam.name}' may take code → execute`);
  }
  if (!sqlHandled && execPhrase && !(readVerbStrong && !codeParam)) {
    t.add("execute", 3, "description says it runs code, commands or scripts → execute");
  }
  if (fam.has("agent") && AGENT_DELEGATION.test(desc)) {
    t.add("execute", 3, "delegates to an agent that may use its own tools → execute");
    t.destroy(2, "a delegated agent has open-ended effects → destructive");
  }

  const method = params.find((p) => p.key === "method" || p.key === "http_method" || p.key === "verb");
  if (method) {
    const en = method.enumValues.map((v) => v.toUpperCase());
    const passThrough = params.some((p) =>
      ["url", "endpoint", "path", "body", "headers", "uri", "route", "data", "payload"].includes(p.key),
    );
    if (en.length > 0) {
      if (en.includes("DELETE")) {
        t.add("write", 4, `parameter '${method.name}' allows DELETE → write`);
        t.destroy(3, `parameter '${method.name}' allows DELETE → destructive`);
      } else if (en.some((m) => m === "POST" || m === "PUT" || m === "PATCH")) {
        t.add(
          "write",
          4,
          `parameter '${method.name}' allows ${en.filter((m) => m !== "GET" && m !== "HEAD").join("/")} → write`,
        );
      } else if (en.every((m) => m === "GET" || m === "HEAD" || m === "OPTIONS")) {
        t.add("read", 1, `parameter '${method.name}' only allows GET → read`);
      }
    } else if (passThrough) {
      t.add("write", 4, `parameter '${method.name}' passes any HTTP method through → write`);
      t.destroy(3, "a generic API pass-through can DELETE → destructive");
    }
  }
  for (const p of params) {
    if (DESTRUCTIVE_PARAMS.has(p.key)) {
      t.add("write", 3, `parameter '${p.name}' can ${p.key.replace(/_/g, " ")} → not read`);
      t.destroy(2, `parameter '${p.name}' → destructive`);
      break;
    }
  }
  if (paramKeys.has("overwrite") || paramKeys.has("force"))
    t.destroy(1, "parameter 'overwrite'/'force' can replace existing data");

  // --- description phrases ---------------------------------------------------------------------------------------
  if (fam.has("destr") && DESTRUCTIVE_PHRASE.test(desc) && !NEGATED_DESTRUCTIVE.test(desc)) {
    const m = DESTRUCTIVE_PHRASE.exec(desc)?.[0] ?? "";
    t.destroy(2, `description says '${m}' → destructive`);
    if (primary === "read" || !primary) t.add("write", 1, `description says '${m}' → not read`);
  }
  if (fam.has("ro") && READONLY_PHRASE.test(desc)) {
    const m = READONLY_PHRASE.exec(desc)?.[0] ?? "";
    t.add("read", 2, `description says '${m}' → read`);
  }
  if (fam.has("wait") && WAITS_FOR_JOB.test(desc))
    t.add("write", 3, "description waits for a job to complete → it starts work (not read)");
  if (
    verb &&
    EDIT_IN_PLACE_VERBS.has(verb) &&
    objects.some((o) => EDIT_IN_PLACE_OBJECTS.has(o)) &&
    !VERSIONED_PHRASE.test(desc)
  ) {
    t.destroy(2, `'${verb}' of ${objects.join(" ")} changes content in place with no history → destructive`);
  }
  if (
    verb === "replace" ||
    (fam.has("replace") && /\breplaces? (the )?(entire|whole|all)\b|\bcompletely (replace|overwrite)/.test(desc))
  ) {
    t.destroy(1, "replaces content wholesale → destructive");
  }

  // --- financial ----------------------------------------------------------------------------------------------------
  const moneyContext =
    MONEY_WORDS.test(first) ||
    params.some((p) => p.key === "amount" || p.key.endsWith("_amount") || p.key === "currency");
  if (
    verb &&
    ["finalize", "finalise", "void", "capture"].includes(verb) &&
    objects.some((o) => /^(invoices?|payments?|charges?|orders?|transactions?)$/.test(o))
  ) {
    t.financial += 3;
    t.destroy(3, `'${verb}' closes a financial matter irreversibly → destructive`);
    t.signals.push(`'${verb} ${objects.join(" ")}' → financial`);
  } else if (verb && MONEY_VERBS.has(verb)) {
    t.financial += 3;
    t.destroy(3, `name verb '${verb}' moves money → destructive`);
    t.signals.push(`name verb '${verb}' moves money → financial`);
  } else if (verb && MONEY_VERBS_NEED_CONTEXT.has(verb) && moneyContext) {
    t.financial += 3;
    t.destroy(3, `'${verb}' with money in play → destructive`);
    t.signals.push(`'${verb}' of funds → financial`);
  } else if (primary && primary !== "read") {
    const billing = objects.find((o) => BILLING_OBJECTS.has(o));
    if (billing && (billing !== "order" && billing !== "plan" ? true : moneyContext || objects.includes("billing"))) {
      t.financial += 2;
      t.signals.push(`writes a ${billing} → financial (billing)`);
      if (["refund", "refunds", "payout", "payouts", "charge", "charges"].includes(billing) && verb === "create")
        t.destroy(2, `creating a ${billing} moves money → destructive`);
    } else if (/\b(billing|pricing)\b/.test(first) && primary === "write") {
      t.financial += 2;
      t.signals.push("description changes billing or pricing → financial");
    }
  }
  if (primary !== "read" && t.financial < 2 && fam.has("money") && MONEY_MOVE.test(desc)) {
    t.financial += 3;
    t.destroy(3, `description says it ${MONEY_MOVE.exec(desc)?.[0]} → moves money (financial, destructive)`);
  }
  const amountParam = params.find((p) => p.key === "amount" || p.key.endsWith("_amount"));
  if (amountParam && primary !== "read" && t.financial === 0 && MONEY_WORDS.test(desc)) {
    t.financial += 2;
    t.signals.push(`parameter '${amountParam.name}' with payments in the description → financial`);
  }

  // --- output schema ---------------------------------------------------------------------------------------------
  const outProps = readParams(tool.outputSchema);
  if (outProps.some((p) => /^(deleted|deleted_count|deletedcount|removed)$/.test(p.key)))
    t.destroy(1, "output reports deleted items → destructive");

  // --- annotations (author's claims: one signal among several) --------------------------------------------------
  const ro = ann?.readOnlyHint;
  const de = ann?.destructiveHint;
  if (ro === true) t.add("read", 2, "annotation readOnlyHint=true (author's claim) → read");
  else if (ro === false) t.add("write", 3, "annotation readOnlyHint=false (author's claim) → not read");
  if (ro !== true) {
    if (de === true) t.destroy(1, "annotation destructiveHint=true (author's claim)");
    else if (de === false) t.destroy(-1, "annotation destructiveHint=false (author's claim)");
  }

  return decide(t, {
    verb,
    primary,
    objects,
    objSet,
    tokens: name.tokens,
    desc,
    first,
    params,
    tool,
  });
}

interface DecideCtx {
  verb?: string;
  primary?: VerbClass;
  objects: string[];
  objSet: Set<string>;
  tokens: string[];
  desc: string;
  first: string;
  params: ParamInfo[];
  tool: ToolInput;
}

function decide(t: Tally, c: DecideCtx): Classification {
  const notRead = t.write + t.execute;
  let access: Access;
  let strength: number;
  let opposing: number;
  if (t.read === 0 && notRead === 0) {
    access = "write";
    strength = 0;
    opposing = 0;
    t.signals.push("no evidence either way → not read (unknown tools are not allowed as read)");
  } else if ((t.read >= notRead + 2 && t.read >= 2 * notRead) || (notRead === 0 && t.read > 0)) {
    access = "read";
    strength = t.read;
    opposing = notRead;
  } else {
    access = t.execute >= 3 ? "execute" : "write";
    strength = notRead;
    opposing = t.read;
    if (t.read > 0 && t.read >= notRead) t.signals.push("read and write evidence conflict → leaning not read");
  }
  if (opposing > 0) {
    t.against.push(`conflicting evidence (${access === "read" ? "not-read" : "read"} score ${opposing})`);
  }

  let destructive = t.destructive >= 2 && access !== "read";
  // Running arbitrary code or shell with write access is destructive; browser JavaScript and launching a deployment
  // are not by themselves.
  if (access === "execute" && !destructive) {
    const codeRun = t.signals.some((s) => /takes code|runs code|takes SQL|'exec'|'eval'/.test(s));
    if (codeRun && !BROWSER_JS.test(c.first) && !BROWSER_JS.test(c.tokens.join(" "))) {
      destructive = true;
      t.signals.push("runs arbitrary code or commands with write access → destructive");
    }
  }
  const financial = t.financial >= 2 && access !== "read";

  let confidence = strength === 0 ? 0.3 : 0.35 + 0.55 * (1 - Math.exp(-strength / 3));
  if (opposing > 0) confidence -= 0.3 * Math.min(1, opposing / Math.max(strength, 1));
  // Destructive verdicts resting only on weak hints are less certain.
  if (access !== "read" && t.destructive > 0 && t.destructive < 2) confidence -= 0.05;
  confidence = Math.round(Math.min(0.97, Math.max(0.05, confidence)) * 100) / 100;

  const risk = riskOf(access, destructive, financial, t, c);
  const signals = [...t.signals, ...t.against];
  const classification: Classification = {
    access,
    destructive,
    financial,
    category: deriveCategory(access, destructive, financial),
    risk,
    confidence,
    signals,
    flags: [],
    source: "heuristic",
    classifierVersion: CLASSIFIER_VERSION,
  };
  classification.flags = detectFlags(c.tool, classification);
  return classification;
}

function riskOf(access: Access, destructive: boolean, financial: boolean, t: Tally, c: DecideCtx): Risk {
  if (destructive || financial) return "critical";
  if (access === "execute") {
    t.signals.push("executes → high risk");
    return "high";
  }
  const verb = c.verb ?? "";
  if (access === "write") {
    if (
      MESSAGE_VERBS.has(verb) ||
      (verb === "post" && c.objects.some((o) => MESSAGE_OBJECTS.has(o))) ||
      MESSAGE_PHRASE.test(c.first)
    ) {
      t.signals.push("sends messages to people → high risk");
      return "high";
    }
    if (PERMISSION_VERBS.has(verb) || c.objects.some((o) => PERMISSION_OBJECTS.has(o))) {
      t.signals.push("changes permissions, access or secrets → high risk");
      return "high";
    }
    if ((verb === "install" || verb === "installs") && !c.objSet.has("directory")) {
      t.signals.push("installs third-party code → high risk");
      return "high";
    }
    if (
      HARMLESS_VERBS.has(verb) ||
      c.objects.some((o) => HARMLESS_OBJECTS.has(o)) ||
      HARMLESS_PHRASE.test(c.first) ||
      (c.primary === "read" && t.write <= 2)
    ) {
      t.signals.push("harmless local or session state → low risk");
      return "low";
    }
    return "medium";
  }
  // read
  if (
    WHOLESALE_SECRETS.test(c.desc) ||
    c.tokens.some((x) => x === "env" || x === "environment" || x === "cookies" || x === "kubeconfig" || x === "secrets")
  ) {
    t.signals.push("reads secrets or credentials wholesale → high risk");
    return "high";
  }
  const head = [...c.objects].reverse().find((o) => !STOP_TOKENS.has(o));
  if (head && METADATA_OBJECTS.has(head) && !(head === "details" && c.objects.some((o) => SENSITIVE_OBJECTS.has(o)))) {
    t.signals.push(`reads metadata ('${head}') → low risk`);
    return "low";
  }
  const sensitive = c.objects.find((o) => SENSITIVE_OBJECTS.has(o));
  if (sensitive) {
    t.signals.push(`reads private content ('${sensitive}') → medium risk`);
    return "medium";
  }
  if (["read", "download", "dump"].includes(verb)) {
    t.signals.push(`'${verb}' returns content → medium risk`);
    return "medium";
  }
  if (t.signals.some((s) => s.includes("SQL"))) {
    t.signals.push("returns database rows → medium risk");
    return "medium";
  }
  if (c.objects.length === 0 || !c.verb) {
    const fw = descWords(c.first, 14).find((w) => SENSITIVE_OBJECTS.has(w));
    if (fw) {
      t.signals.push(`description reads private content ('${fw}') → medium risk`);
      return "medium";
    }
  }
  t.signals.push("reads public or non-sensitive data → low risk");
  return "low";
}
