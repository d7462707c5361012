import type { Access, Classification, Risk, ToolInput } from "../core/types.js";
import { deriveCategory } from "../core/vocabulary.js";
import { decide, type Feature, type HeuristicModel, renderSignal, type Target, type Where } from "./features.js";
import { detectFlagsAfter, FLAG_REGEXES, INVISIBLE_MARKS } from "./flags.js";
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
import { type Parts, PhraseSet, type Scan } from "./phrases.js";
import { CLASSIFIER_VERSION } from "./version.js";

/** One input parameter as the heuristics see it. */
export interface ParamInfo {
  name: string;
  /** Lower-cased name with separators folded to "_". */
  key: string;
  type: string;
  enumValues: string[];
  description: string;
  /** The roles its key plays in the rules (KEY_ROLES bits): one lookup per parameter instead of one per rule. */
  roles: number;
}

/** Splits a tool name on snake, camel, kebab, dot, slash and space boundaries into lower-case words. */
/** splitName's scratch list (its words are copied out). */
const splitWords: string[] = [];

export function splitName(name: string): string[] {
  // One pass over char codes (the regex version was a tenth of the classifier's time): a word ends before an upper-case
  // letter after a lower-case letter or digit, before the last capital of an acronym followed by a lower-case letter
  // ("HTTPResponse"), before a digit after a letter, and at anything that is not an ASCII letter or digit. Words
  // without a capital are not lower-cased again. The words are collected in a scratch array and copied out at their
  // exact number (pushing onto [] reserves 16 slots).
  const out = splitWords;
  let k = 0;
  const n = name.length;
  let start = -1;
  let upper = false;
  let prev = 0; // 0 none, 1 upper, 2 lower, 3 digit
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    const kind = c >= 65 && c <= 90 ? 1 : c >= 97 && c <= 122 ? 2 : c >= 48 && c <= 57 ? 3 : 0;
    if (kind === 0) {
      if (start >= 0) out[k++] = upper ? name.slice(start, i).toLowerCase() : name.slice(start, i);
      start = -1;
    } else if (start < 0) {
      start = i;
      upper = false;
    } else if (
      (kind === 1 && (prev === 2 || prev === 3)) ||
      (kind === 3 && (prev === 1 || prev === 2)) ||
      (kind === 1 && prev === 1 && i + 1 < n && name.charCodeAt(i + 1) >= 97 && name.charCodeAt(i + 1) <= 122)
    ) {
      out[k++] = upper ? name.slice(start, i).toLowerCase() : name.slice(start, i);
      start = i;
      upper = false;
    }
    if (kind === 1) upper = true;
    prev = kind;
  }
  if (start >= 0) out[k++] = upper ? name.slice(start).toLowerCase() : name.slice(start);
  return out.slice(0, k);
}

/** The enum values of a parameter without any (shared: nothing writes to a ParamInfo's lists). */
const NO_ENUM: string[] = [];

/** readParams' scratch list (its parameters are copied out). */
const paramScratch: ParamInfo[] = [];

/** Reads the top-level properties of a JSON-schema-like input schema; odd shapes yield no parameters. */
export function readParams(schema: unknown): ParamInfo[] {
  if (!schema || typeof schema !== "object") return [];
  const props = (schema as { properties?: unknown }).properties;
  if (!props || typeof props !== "object" || Array.isArray(props)) return [];
  // Collected in a scratch list and copied out at their exact number (pushing onto [] reserves 16 slots).
  const out = paramScratch;
  let k = 0;
  const all = props as Record<string, unknown>;
  for (const name in all) {
    const raw = all[name];
    let type = "";
    let enumValues: string[] = NO_ENUM;
    let description = "";
    if (raw && typeof raw === "object") {
      const p = raw as Record<string, unknown>;
      // The keys enumerated once instead of a lookup per field: inside `for…in` the optimising compiler reads `p[k]`
      // by the object's enum cache, where `p.type` on schemas of every shape is a megamorphic lookup (or a miss, for
      // the fields a property does not have). JSON objects have no inherited enumerable fields, so this reads what
      // the lookups did.
      let pt: unknown;
      let pe: unknown;
      let pi: unknown;
      let pd: unknown;
      for (const k in p) {
        if (k === "type") pt = p[k];
        else if (k === "description") pd = p[k];
        else if (k === "enum") pe = p[k];
        else if (k === "items") pi = p[k];
      }
      if (typeof pt === "string") type = pt;
      else if (Array.isArray(pt)) type = pt.join("|");
      const en = Array.isArray(pe) ? pe : (pi as { enum?: unknown } | undefined)?.enum;
      if (Array.isArray(en)) enumValues = en.filter((v): v is string => typeof v === "string").slice(0, 64);
      if (typeof pd === "string") description = pd.slice(0, 500);
    }
    const key = paramKey(name);
    out[k++] = { name, key, type, enumValues, description, roles: KEY_ROLES.get(key) ?? 0 };
  }
  return out.slice(0, k);
}

/** A parameter name lower-cased with each run of other characters folded to "_"; most names need no folding. */
function paramKey(name: string): string {
  // Most names are already keys (a-z, 0-9, single underscores): then the name itself, which as a property name is an
  // internalized string, so the rules' comparisons and lookups of it are pointer checks (a lower-cased copy is not).
  let plain = true;
  for (let i = 0, prev = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c === 95 && prev !== 95)) prev = c;
    else {
      plain = false;
      break;
    }
  }
  if (plain) return name;
  const lower = name.toLowerCase();
  let prevUnderscore = false;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) prevUnderscore = false;
    else if (c === 95 && !prevUnderscore) prevUnderscore = true;
    else return lower.replace(/[^a-z0-9]+/g, "_");
  }
  return lower;
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
  /\b(execut(e|es|ing)|runs?|(?<!\b(a|an|the|any) )running|evaluat(e|es|ing)|eval)\b[^.]{0,40}\b(arbitrary|shell|bash|terminal|javascript|python|code|commands?|scripts?|programs?|cells?|notebook)\b|arbitrary (code|commands?|shell|scripts?|programs?)|shell commands?|terminal commands?|\bsubprocess\b|command[- ]line/;
const BROWSER_JS = /\b(browser|page|console|dom|web ?page|playwright|puppeteer)\b/;
/**
 * BROWSER_JS on a name's words joined by spaces, as a lookup: the words are runs of [a-z0-9], so its word boundaries
 * are the words' edges, and "web page" holds "page".
 */
const BROWSER_JS_TOKENS = new Set(["browser", "page", "console", "dom", "webpage", "playwright", "puppeteer"]);
const AGENT_DELEGATION =
  /\b(assistant|agent)\b[^.]{0,80}\b(may|can|will|to) (use|call|invoke|run) (its own |other )?(tools|actions)|delegat\w* (a |the )?(task|prompt)s? to/;
const DESTRUCTIVE_PHRASE =
  /cannot be undone|can ?not be reversed|irreversibl|permanently (delete|remove|destroy|erase|purge)|\boverwrit|destructive operation|\bwipes?\b|\bpurges?\b|\berases?\b|\bomit\w*\b[^.]{0,60}\b(is|are|will be|gets?) (removed|deleted|cleared)\b|\bused to\b[^.]{0,60}\b(delete|remove|cancel|redact|purge|erase)\b/;
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
/** Verbs whose effect is to replace existing content wholesale. */
const REPLACE_VERBS = new Set(["replace", "overwrite", "upsert", "restore", "reset", "cleanup", "clear"]);
const REPLACE_PHRASE =
  /\breplaces? (the )?(entire|whole|all|existing|current|an existing)\b|\bcompletely (replace|overwrite)|\b(and|or) replaces?\b|\bfull(y)? (update|replace)|\bfull replacement\b|\breplaces? (it|them) entirely\b|\bupdates? (all|every|many|multiple) (the )?(documents|rows|records)\b/;
/** Items the caller leaves out are removed: the list given replaces what was there (overwrite semantics). */
const OMITTED_REMOVED =
  /\b(not (provided|included|specified|listed|passed|supplied|present)|omitted|left out)\b[^.]{0,40}\b(is|are|will be|gets?) (removed|deleted|cleared|dropped)\b|\b(given|provided|supplied|new) (list|set|array)\b[^.]{0,30}\b(replaces?|overwrites?)\b|\boverwrites? (the )?(existing|current|previous)\b/;
/** A switch whose own description says setting it deletes or trashes the item ("Set to true to archive (delete)"). */
const FLAG_DELETES =
  /\b(set (it )?to true|if true|when true|true)\b[^.]{0,30}\b(delet|trash|destroy|purg|permanently remov)|\((delete|deletes|trash|trashes)\)/;
/** Soft delete to a trash or recycle bin still deletes (the labelling rules count it). */
const TRASH_PHRASE = /\btrash(es|ed)?\b|\bto (the )?recycle bin\b/;
/** Ending every session of a user or account logs people out (terminates sessions). */
const END_SESSIONS =
  /\b(revokes?|terminates?|ends?|invalidates?|kills?|log(s)? ?out|sign(s)? ?out)( of)? (all|every|other)( the)?( active| user| other)? sessions?\b/;
/** Money changes hands without a money verb in the name: "to refund or credit", "billed immediately". */
const BILLS_PHRASE =
  /\bto (refund|bill)\b|\b(billed|charged) (immediately|right away|now)\b|\bbill for [\w -]{0,30}\bnow\b/;
/** "Revert a timesheet to draft": a status goes back, nothing is lost. */
const REVERT_TO_STATUS =
  /\b(revert|reverts|reopen|reopens)\b[^.]{0,40}\bto (a |the )?(draft|pending|open|unapproved|previous status)\b/;
/** What a run/execute verb runs is other tools ("Run multiple tools in sequence", "Execute an available … tool"). */
const RUNS_TOOLS = /^\s*(an?|the|any|one|multiple|several|other|many|all)?\s*([\w-]+\s+){0,3}?tools?\b/;
/** "Save a screenshot of the device to a file", "Create a backup of the database to a file": an export of what is read. */
const EXPORT_TO_FILE =
  /\b(screenshots?|snapshots?|backups?|dump|export|copy|recording|trace)( file)? of\b[^.]{0,60}\bto (a |the )?(local |specified |given )?(file|disk|path|directory|folder)\b/;
/** Descriptions that hand a task to another agent that acts on its own. */
const AUTONOMOUS_AGENT =
  /\bautonomous(ly)?\b[^.]{0,60}\bagent\b|\bagent\b[^.]{0,60}\bautonomous(ly)?\b|\bcomputer[- ]use agent\b/;
/** Applying a manifest or chart launches whatever workload it describes. */
const APPLY_MANIFEST =
  /\bserver[- ]side apply\b|\bapply (an? |the )?(kubernetes )?(manifest|yaml|chart|template|configuration file)s?\b|\bkubectl apply\b|\bhelm (install|upgrade)\b/;
/** Words in a parameter name that make it a switch for deleting or overwriting. */
/**
 * Whether a parameter key holds one of DESTRUCTIVE_PARAM_WORDS anywhere (as /drop|delete|purge|…|erase/.test(key)),
 * read by hand: one pass over the key's characters, comparing only where a word can start (the regex ran for every
 * parameter of every tool). A test compares the two on every corpus parameter.
 */
export function destructiveParamGate(key: string): boolean {
  for (let i = 0, n = key.length; i < n; i++) {
    switch (key.charCodeAt(i)) {
      case 100: // d
        if (key.startsWith("drop", i) || key.startsWith("delete", i) || key.startsWith("destroy", i)) return true;
        break;
      case 112: // p
        if (key.startsWith("purge", i)) return true;
        break;
      case 119: // w
        if (key.startsWith("wipe", i)) return true;
        break;
      case 116: // t
        if (key.startsWith("trash", i) || key.startsWith("truncate", i)) return true;
        break;
      case 101: // e
        if (key.startsWith("erase", i)) return true;
        break;
    }
  }
  return false;
}
/**
 * destructiveParamGate, remembered per key: catalogs repeat the same few thousand parameter keys ("id", "path",
 * "query"…) over and over, and a lookup mispredicts far less than the gate's switch on every character. Bounded: the
 * memo is emptied when full.
 */
function destructiveKey(key: string): boolean {
  let v = DESTRUCTIVE_KEY_MEMO.get(key);
  if (v === undefined) {
    if (DESTRUCTIVE_KEY_MEMO.size >= 4096) DESTRUCTIVE_KEY_MEMO.clear();
    v = destructiveParamGate(key);
    DESTRUCTIVE_KEY_MEMO.set(key, v);
  }
  return v;
}
const DESTRUCTIVE_KEY_MEMO = new Map<string, boolean>();

/** /status|state/.test(key) without a regex. */
function statusKey(key: string): boolean {
  return key.includes("stat") && (key.includes("status") || key.includes("state"));
}
const DESTRUCTIVE_PARAM_WORDS = new Set(["drop", "delete", "purge", "wipe", "destroy", "trash", "truncate", "erase"]);
/** A tool that dispatches to sub-commands it does not list. */
const ROUTER_PHRASE = /\bcommand router\b|\bsub[- ]?commands?\b|\bchild tools?\b|\bagainst the specified tool\b/;
/**
 * Verb senses. Starting, stopping or cancelling the caller's own recording, trace or search, and capturing or taking
 * a screenshot or snapshot, only read ("performance_start_trace", "stop_search", "Capture a heap snapshot").
 */
const READ_JOB_VERBS = new Set(["start", "stop", "begin", "end", "cancel", "pause", "resume", "finish", "trigger"]);
const CAPTURE_VERBS = new Set(["capture", "captures", "take", "takes", "record", "records"]);
const READ_JOB_OBJECTS = new Set([
  "search",
  "searches",
  "trace",
  "tracing",
  "recording",
  "screencast",
  "profiling",
  "profiler",
  "capture",
  "scan",
  "screenshot",
  "snapshot",
  "heapsnapshot",
  "video",
  "coverage",
  // MCP asks the user (elicitation) or the client's model (sampling): nothing outside the conversation changes.
  "elicitation",
  "sampling",
]);
const ENDING_VERBS = new Set(["stop", "close", "end", "quit", "exit"]);
const RESTART_VERBS = new Set(["restart", "reboot"]);
const REFUSES_EXISTING =
  /\b(destination|target)( file| path)? (already )?exists\b[^.]{0,40}\b(fail|error|refuse)|\bwill not overwrite\b|\bnever overwrites?\b/;
const KEY_VALUE_SET = /\bkey[- /]value (pairs?|settings?|entries)\b/;
const KERNEL_RESTART = /\b(kernel|interpreter)\b/;
const OWN_SESSION_OBJECTS = new Set(["session", "page", "tab", "browser", "forward", "interact", "connection"]);
/** Selecting which page, tab or frame later calls act on is session plumbing ("Select a page as a context"). */
const SESSION_OBJECTS = new Set(["page", "tab", "frame", "context", "window"]);
/** Reconnecting or disconnecting the server's own client is session plumbing ("Close a MongoDB connection"). */
const PLUMBING_VERBS = new Set(["disconnect", "reconnect"]);
const PLUMBING_OBJECTS = new Set([
  "connection",
  "connections",
  "session",
  "client",
  "clients",
  "server",
  "database",
  "db",
]);
const CAPTURE_OBJECTS = /\b(screenshots?|snapshots?|heap|image|screen|screencast|trace|video|recording|har)\b/;
/** A script parameter under a qualifier ("initScript", "pre_script", "user_scripts"), not a "transcript". */
const SCRIPT_PARAM =
  /(^|_)scripts?$|^(init|pre|post|startup|setup|custom|user|inject|injected|page|browser)_?scripts?$/;
/** Script parameters that are run by their nature (before, after or inside the page or process). */
const RUN_SCRIPT_PARAM = /^(init|pre|post|startup|setup|inject|injected|page|browser)_?scripts?$/;
/** The description says a stored status moves ("`validationStatus` becomes VERIFIED"): the tool changes state. */
const STATE_CHANGE = /(status|state)\W{0,3} (becomes|transitions|changes to|is (set|updated|changed) to)\b/;
const SWITCH_VERBS = new Set(["activate", "deactivate", "suspend", "unsuspend", "reactivate"]);
const SIGN_IN_OBJECTS = new Set(["user", "users", "application", "applications", "app", "apps", "account", "accounts"]);
/** Code that runs in the server's own process, whatever language: RCE, not a browser page's sandbox. */
const SERVER_PROCESS_CODE = /\b(rce|remote code execution|server process|node(\.js)? process|host process)\b/;
const CALLBACK_METHOD = /\bwhen calling\b|\bcallback\b|\bwebhook\b|\bwe (should|will) use\b/;
const REFUSAL = /\b(rejects?|refuses?|must not|not allowed|disallow\w*|forbid\w*|blocks?|prohibit\w*)\b/;

/** The text without its sentences that refuse something ("Rejects writes and DDL"). */
function withoutRefusals(text: string): string {
  if (!REFUSAL.test(text)) return text;
  return text
    .split(/(?<=[.!?\n])\s+/)
    .filter((x) => !REFUSAL.test(x))
    .join(" ");
}

/** "Select and run one of the following operations": the operations decide, not the opening verb. */
const ROUTER_OPENING = /\bone of the (following|available)\b/;
/** The author says the tool is for an application, not the model: what it does is internal plumbing (unsure). */
const NOT_FOR_MODEL =
  /\b(model|agent|assistant|llm|you) should (not|never) call (this|it)\b|\bdo not call this tool directly\b|\bnot (meant|intended) to be called by (the )?(model|agent|llm)\b/;
/** Third-person writing verbs that, opening a later sentence, say the tool also changes something. */
const LATER_WRITE = new Set([
  "triggers",
  "creates",
  "updates",
  "modifies",
  "deletes",
  "removes",
  "writes",
  "sends",
  "starts",
  "saves",
  "stores",
  "overwrites",
  "changes",
  "sets",
  "posts",
  "executes",
  "runs",
]);

/**
 * The first word in LATER_WRITE that opens a sentence after the first, within 600 characters: the matches of
 * /(?:^|[.!?]\s+|\n\s*)(?:it |this tool |also |then )*([a-z]+)\b/g over that stretch, in order, read by hand (the
 * regex took a few per cent of the classifier's time). A test compares the two on every description.
 */
export function laterWriteVerb(desc: string, first: string): string | undefined {
  const from = first.length;
  const end = Math.min(desc.length, from + 600);
  markDot = markBang = markQuestion = markBreak = -2;
  for (let p = from; p < end; ) {
    let e = -1;
    const c = desc.charCodeAt(p);
    if (p === from) e = sentenceWord(desc, p, end);
    if (e < 0 && (c === 46 || c === 33 || c === 63) && p + 1 < end && isSpace(desc.charCodeAt(p + 1))) {
      let q = p + 1;
      while (q < end && isSpace(desc.charCodeAt(q))) q++;
      e = sentenceWord(desc, q, end);
    }
    if (e < 0 && c === 10) {
      let q = p + 1;
      while (q < end && isSpace(desc.charCodeAt(q))) q++;
      e = sentenceWord(desc, q, end);
    }
    if (e < 0) {
      // Past `from`, a match can only start after one of . ! ? or a line break: skip to the next.
      p = nextMark(desc, p + 1, end);
      continue;
    }
    const w = laterWord;
    if (LATER_WRITE.has(w)) return w;
    p = e;
  }
  return undefined;
}

/**
 * Where the next . ! ? and line break are at or after the last position asked (-1: none left; -2: not looked for yet),
 * for nextMark within one laterWriteVerb call.
 */
let markDot = -2;
let markBang = -2;
let markQuestion = -2;
let markBreak = -2;

/** The first . ! ? or line break at or after `from` (ascending from call to call), before `end`; else `end`. */
function nextMark(s: string, from: number, end: number): number {
  if (markDot !== -1 && markDot < from) markDot = s.indexOf(".", from);
  if (markBang !== -1 && markBang < from) markBang = s.indexOf("!", from);
  if (markQuestion !== -1 && markQuestion < from) markQuestion = s.indexOf("?", from);
  if (markBreak !== -1 && markBreak < from) markBreak = s.indexOf("\n", from);
  let m = end;
  if (markDot >= 0 && markDot < m) m = markDot;
  if (markBang >= 0 && markBang < m) m = markBang;
  if (markQuestion >= 0 && markQuestion < m) m = markQuestion;
  if (markBreak >= 0 && markBreak < m) m = markBreak;
  return m;
}

const LATER_PREFIXES = ["it ", "this tool ", "also ", "then "];
/** sentenceWord's list of where each prefix ends, reused from call to call. */
const sentenceStarts: number[] = [];
/** The word sentenceWord found. */
let laterWord = "";

/**
 * At `q`: (?:it |this tool |also |then )*([a-z]+)\b within [q, end), greedy with the regex's backtracking (fewer
 * prefixes when no word follows the last). Sets laterWord and returns where the match ends, or -1.
 */
function sentenceWord(s: string, q: number, end: number): number {
  let at = q;
  let n = 0;
  // Written by index, never emptied: `length = 0` would drop the list's storage, and the next push reserve it anew.
  const starts = sentenceStarts;
  starts[0] = q;
  for (;;) {
    // Every prefix starts with i, t or a.
    const c0 = s.charCodeAt(at);
    if (c0 !== 105 && c0 !== 116 && c0 !== 97) break;
    let next = -1;
    for (const pre of LATER_PREFIXES)
      if (at + pre.length <= end && s.startsWith(pre, at)) {
        next = at + pre.length;
        break;
      }
    if (next < 0) break;
    at = next;
    n++;
    starts[n] = at;
  }
  for (let k = n; k >= 0; k--) {
    const w = starts[k]!;
    let j = w;
    while (j < end && s.charCodeAt(j) >= 97 && s.charCodeAt(j) <= 122) j++;
    if (j === w) continue;
    if (j < end && isWordChar(s.charCodeAt(j))) continue;
    laterWord = s.slice(w, j);
    return j;
  }
  return -1;
}

function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** JavaScript's \s. */
function isSpace(c: number): boolean {
  return (
    (c >= 9 && c <= 13) ||
    c === 32 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Write verbs that store what they are given. */
const STORE_VERBS = new Set([
  "create",
  "add",
  "update",
  "edit",
  "modify",
  "set",
  "put",
  "save",
  "write",
  "insert",
  "upsert",
  "upload",
  "post",
  "publish",
  "patch",
  "replace",
  "commit",
  "push",
  "store",
  "append",
  "register",
  "define",
  "import",
]);
/** Verbs that by themselves mean evaluating code. */
const CODE_VERBS = new Set(["exec", "eval"]);
/** Name verbs that launch a workload when their object is one ("trigger_pipeline", "apply_manifest"). */
const LAUNCH_NAME_VERBS = new Set(["trigger", "dispatch", "start", "build", "apply", "install", "upgrade"]);
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
  /^(search|searches|query|queries|lookup|analysis|analyses|scan|check|inspection|calculation|inference|prediction|evaluation|review|audit|research)$/;
/** On a reading tool, a parameter that filters by a state ("in_trash", "include_deleted") deletes nothing. */
const STATE_FILTER_PARAM = /^(in|is|include|including|show|with|only|exclude|filter)_/;
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
const EDIT_IN_PLACE_VERBS = new Set(["write", "writes", "edit", "edits", "overwrite", "replace", "replaces", "save"]);
const EDIT_IN_PLACE_OBJECTS = new Set([
  "file",
  "files",
  "cell",
  "source",
  "content",
  "contents",
  "text",
  "comment",
  "pdf",
  "block",
]);
/** Parameters naming a local file to write: writing or editing there overwrites what the file held. */
const PATH_PARAMS = new Set(["path", "file_path", "filepath", "output_path", "outputpath", "filename", "file"]);
/** Bits of ParamInfo.roles: the key is in OPS_PARAMS, CODE_PARAMS, SQL_PARAMS, DESTRUCTIVE_PARAMS, PATH_PARAMS. */
const R_OPS = 1;
const R_CODE = 2;
const R_SQL = 4;
const R_DESTRUCTIVE = 8;
const R_PATH = 16;
/** Every parameter key some rule looks up, with the roles it plays (built from the sets themselves). */
const KEY_ROLES = new Map<string, number>();
for (const [set, bit] of [
  [OPS_PARAMS, R_OPS],
  [CODE_PARAMS, R_CODE],
  [SQL_PARAMS, R_SQL],
  [DESTRUCTIVE_PARAMS, R_DESTRUCTIVE],
  [PATH_PARAMS, R_PATH],
] as const)
  for (const k of set) KEY_ROLES.set(k, (KEY_ROLES.get(k) ?? 0) | bit);

/** The first parameter whose key plays `role` (a KEY_ROLES bit). */
function withRole(params: ParamInfo[], role: number): ParamInfo | undefined {
  for (const p of params) if ((p.roles & role) !== 0) return p;
  return undefined;
}

/** Removing a link, mapping or assignment ("remove_user_from_group", "delete_credential_list_mapping"). */
const QUALIFIED_LINK_HEADS = new Set(["relation", "relationship", "link"]);
const LINK_HEADS = new Set(["mapping", "mappings", "assignment", "assignments", "association", "associations"]);

/** The association a remove/delete only breaks, if that is all it does. */
function linkOnly(verb: string, objects: string[], tokens: string[]): string | undefined {
  if (["remove", "unlink", "removes", "detach"].includes(verb)) {
    const assoc = objects.find((o) => ASSOCIATION_OBJECTS.has(o));
    if (assoc) return assoc;
    if (tokens.includes("from") && objects.length >= 2) return "from";
  }
  const head = objects[objects.length - 1];
  if (head && LINK_HEADS.has(head) && ["remove", "delete", "unlink", "detach"].includes(verb)) return head;
  // "delete issue relation": a single relation or link qualified by what it joins is a link between two items;
  // plain "delete relations" of a knowledge graph deletes the data itself.
  if (head && QUALIFIED_LINK_HEADS.has(head) && objects.length >= 2 && ["remove", "delete"].includes(verb)) return head;
  return undefined;
}
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
  /fully|full update|full replace|exec|run|eval|shell|command|subprocess|arbitrary|terminal|agent|assistant|delegat|undone|revers|permanent|overwrit|destructive|wipe|purge|erase|read.only|does not|doesn't|side.effect|without|dry|safe to call|wait|fund|money|payment|amount|crud|replace|update|omit|used to/g;
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
  omit: "destr",
  "used to": "destr",
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
  fully: "replace",
  "full update": "replace",
  "full replace": "replace",
  update: "replace",
};

function triggerFamilies(desc: string, scan: Scan): Set<string> {
  const out = new Set<string>();
  if (!scan.may(TRIGGER_ANY)) return out;
  // match() with the g flag: the same leftmost, non-overlapping matches as an exec loop, as one array of strings
  // (an exec loop makes a match object per match).
  const all = desc.match(TRIGGER);
  if (all === null) return out;
  for (const w of all) {
    out.add(TRIGGER_FAMILY[w] ?? (w.startsWith("read") ? "ro" : w.startsWith("side") ? "ro" : "other"));
    if (w === "overwrit") out.add("replace");
  }
  return out;
}

/** Evidence's scratch list of features (one tool is read at a time; extract copies them out). */
const featureScratch: Feature[] = [];

/** The features found while reading one tool, in the order they fired. */
class Evidence {
  /** The features so far are list[0..n): a scratch list reused from tool to tool, copied out by `features()`. */
  private readonly list: Feature[] = featureScratch;
  private n = 0;
  private dispatches = false;
  /** Hand-weight totals so far, for the few rules that depend on earlier evidence. */
  hand = { read: 0, write: 0, execute: 0, destructive: 0, financial: 0, risk: 0, unsure: 0 };
  add(id: string, on: Where, text: string, to: Target, weight: number, why: string, runsCode?: boolean): void {
    const f: Feature = { id, on, text, to, weight, why };
    if (runsCode) f.runsCode = true;
    this.list[this.n++] = f;
    // A switch, not hand[to]: a keyed store with a varying key is a megamorphic lookup, here on every feature.
    const h = this.hand;
    switch (to) {
      case "read":
        h.read += weight;
        break;
      case "write":
        h.write += weight;
        break;
      case "execute":
        h.execute += weight;
        break;
      case "destructive":
        h.destructive += weight;
        break;
      case "financial":
        h.financial += weight;
        break;
      case "risk":
        h.risk += weight;
        break;
      case "unsure":
        h.unsure += weight;
        break;
    }
  }
  /**
   * A tool that runs other tools by name is a router over them, not a code runner: it can do what the most capable
   * of them does (write, and delete), and which ones it reaches is not in its definition (unsure). Recorded once.
   * (A method, not a closure made per tool: see extract.)
   */
  dispatchesTools(on: Where, what: string): void {
    if (this.dispatches) return;
    this.dispatches = true;
    this.add("dispatches_tools", on, what, "write", 3, `'${what}' runs other tools`);
    this.add("dispatches_tools.destructive", on, what, "destructive", 2, "runs any tool by name");
    this.add("dispatches_tools.unsure", on, what, "unsure", 1, "which tools it runs is not in the definition");
  }
  /** A zero-weight note: explains why a rule did not fire. */
  note(id: string, on: Where, text: string, to: Target, why: string): void {
    this.list[this.n++] = { id, on, text, to, weight: 0, why };
  }
  risk(id: string, on: Where, text: string, level: Risk, when: Access, why: string): void {
    this.list[this.n++] = { id, on, text, to: "risk", weight: 0, why, level, when };
  }
  /** Whether a feature so far satisfies `p`. */
  some(p: (f: Feature) => boolean): boolean {
    for (let i = 0; i < this.n; i++) if (p(this.list[i]!)) return true;
    return false;
  }
  /** The features, in the order they fired (a list of their own). */
  features(): Feature[] {
    return this.list.slice(0, this.n);
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

/** A name that ends in an agent noun says what the tool is ("deploy_services_reader", "file_updater"). */
const AGENT_NOUNS = new Map([
  ["reader", "read"],
  ["viewer", "view"],
  ["fetcher", "fetch"],
  ["searcher", "search"],
  ["finder", "find"],
  ["lister", "list"],
  ["getter", "get"],
  ["downloader", "download"],
  ["updater", "update"],
  ["writer", "write"],
  ["creator", "create"],
  ["editor", "edit"],
  ["modifier", "modify"],
  ["uploader", "upload"],
  ["sender", "send"],
  ["poster", "post"],
  ["deleter", "delete"],
  ["remover", "remove"],
  ["runner", "run"],
  ["executor", "execute"],
]);

/** Whether `w` is one of a name's secondary verbs. */
function isSecondary(secondary: Array<[string, VerbClass]>, w: string): boolean {
  for (const [v] of secondary) if (v === w) return true;
  return false;
}

/** parseName's scratch list of objects (copied out at their exact number; pushing onto [] reserves 16 slots). */
const objectScratch: string[] = [];

function parseName(name: string): NameParse {
  const tokens = splitName(name);
  // Every agent noun ends in "er" or "or": other last words are not looked up.
  const last = tokens.length > 1 ? tokens[tokens.length - 1]! : "";
  const agent =
    last.length > 2 &&
    last.charCodeAt(last.length - 1) === 114 &&
    (last.charCodeAt(last.length - 2) === 101 || last.charCodeAt(last.length - 2) === 111)
      ? AGENT_NOUNS.get(last)
      : undefined;
  if (agent && BASE_VERBS.has(agent))
    return {
      tokens,
      verbIndex: tokens.length - 1,
      verb: agent,
      verbClass: BASE_VERBS.get(agent)!,
      objects: tokens.slice(0, -1).filter((t) => !STOP_TOKENS.has(t)),
      secondary: [],
    };
  let idx = -1;
  let idxClass: VerbClass | undefined;
  for (let i = 0; i < tokens.length; i++) {
    idxClass = BASE_VERBS.get(tokens[i]!);
    if (idxClass !== undefined) {
      idx = i;
      break;
    }
  }
  if (idx < 0 && tokens.length === 1) {
    // Run-together names ("getuser", "listfiles"): accept a known verb as a prefix of a long single word.
    const t = tokens[0]!;
    // Prefixes of 3 to 7 letters that leave at least 3 (cut only as long as one can).
    for (let len = 3; len <= 7 && t.length >= len + 3; len++) {
      const cand = t.slice(0, len);
      if (BASE_VERBS.has(cand) && !NOUN_LIKE.has(cand)) {
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
  const objects = objectScratch;
  let k = 0;
  if (idx < 0) {
    for (const t of tokens) if (!STOP_TOKENS.has(t)) objects[k++] = t;
    return { tokens, verbIndex: -1, objects: objects.slice(0, k), secondary: [] };
  }
  // "post" as an HTTP method after a prefix, before the operation's own verb ("API-post-search"), is the transport,
  // not what the tool does: the next verb decides.
  let verbClass = idxClass!;
  if (tokens[idx] === "post" && idx > 0 && idx + 1 < tokens.length) {
    const nextClass = BASE_VERBS.get(tokens[idx + 1]!);
    if (nextClass !== undefined) {
      idx++;
      verbClass = nextClass;
    }
  }
  const verb = tokens[idx]!;
  const secondary: Array<[string, VerbClass]> = [];
  for (let i = idx + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    const cls = BASE_VERBS.get(t);
    const prev = tokens[i - 1];
    const joined = prev === "or" || prev === "and";
    // After a read verb, a plain write word is part of the object ("fetch_add_on_result", "list_usage_trigger");
    // joined by and/or it is a second verb ("get_or_create").
    const nounAfterRead = verbClass === "read" && cls === "write" && !joined;
    if (cls && !nounAfterRead && (joined || (!NOUN_LIKE.has(t) && cls !== "read"))) {
      secondary.push([t, cls]);
      continue;
    }
    if (!STOP_TOKENS.has(t) && t !== "or" && t !== "and") objects[k++] = t;
  }
  return { tokens, verbIndex: idx, verb, verbClass, objects: objects.slice(0, k), secondary };
}

const NEGATION = /\b(not|never|no|without|cannot|can't|don't|doesn't|won't)\b/;
const OTHER_TOOL_REF = /\buse [a-z0-9]+_[a-z0-9_]+|\(use [a-z0-9_]+\)/;

const WHEN_NOT_TO_USE = /when not to use|do not use|don't use/;
const BULLET = /^[-*•]/;

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
    if (WHEN_NOT_TO_USE.test(l)) {
      inNot = true;
      continue;
    }
    if (inNot && BULLET.test(l)) continue;
    inNot = false;
    if (NEGATION.test(l) || OTHER_TOOL_REF.test(l)) continue;
    out.push(l);
  }
  return out;
}

// Sign-posts that precede the real opening ("START HERE for X:", "REQUIRED FIRST:", "WORKFLOW: a -> b.").
const SIGNPOST =
  /^\s*(start here|required first|important|note|workflow|discovery|tip|hint|deprecated|usage|beta|experimental)\b[^:\n]{0,40}:\s*/;

/**
 * Letters a sign-post can start with, as bits (a = bit 0): a text that starts (after spaces) with none of them, or has
 * no ':', has none.
 */
const SIGNPOST_START = [..."srinwdthube"].reduce((m, c) => m | (1 << (c.charCodeAt(0) - 97)), 0);

/** Whether the last firstSentence was a prefix of its text (no sign-post was cut). */
let firstIsPrefix = true;

function firstSentence(desc: string): string {
  let i = 0;
  while (i < desc.length && isSpace(desc.charCodeAt(i))) i++;
  firstIsPrefix = true;
  const c0 = desc.charCodeAt(i);
  if (c0 >= 97 && c0 <= 122 && ((SIGNPOST_START >>> (c0 - 97)) & 1) !== 0 && desc.includes(":")) {
    const cut = desc.replace(SIGNPOST, "");
    if (cut !== desc) firstIsPrefix = false;
    desc = cut;
  }
  // The first [.!?\n] followed by a space or the end (as /[.!?\n](\s|$)/), cut at 240 characters: one found at or
  // past 240 cuts there too, so the search stops there. Each of the four is found by indexOf (a memchr), the earliest
  // that ends a sentence wins.
  let cut = Math.min(desc.length, 240);
  cut = sentenceEnd(desc, ".", cut);
  cut = sentenceEnd(desc, "!", cut);
  cut = sentenceEnd(desc, "?", cut);
  cut = sentenceEnd(desc, "\n", cut);
  return desc.slice(0, cut);
}

/** The first `mark` before `before` that is followed by a space or the end of `text`, else `before`. */
function sentenceEnd(text: string, mark: string, before: number): number {
  for (let j = text.indexOf(mark); j >= 0 && j < before; j = text.indexOf(mark, j + 1))
    if (j + 1 === text.length || isSpace(text.charCodeAt(j + 1))) return j;
  return before;
}

/** Words' scratch list. */
const wordScratch: string[] = [];

/**
 * The first `limit` words of a lower-cased text (runs of a-z, 0-9, ' and -), cut only as far as they are asked for:
 * the opening-verb rule usually stops at the first or second word.
 */
class Words {
  /** The words cut so far are out[0..n): a scratch list (one text's words are read at a time; slice copies out). */
  private readonly out: string[] = wordScratch;
  private n = 0;
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly limit: number,
  ) {}

  /** Word i, or undefined past the last. */
  at(i: number): string | undefined {
    while (this.n <= i && this.next());
    return i < this.n ? this.out[i] : undefined;
  }

  /** Words from..to-1 (as Array.slice over all the words). */
  slice(from: number, to = this.limit): string[] {
    this.at(to - 1);
    return this.out.slice(from, Math.min(to, this.n));
  }

  private next(): boolean {
    const { text, out } = this;
    if (this.n >= this.limit) return false;
    const n = text.length;
    let i = this.pos;
    while (i < n && !isDescWordChar(text.charCodeAt(i))) i++;
    if (i >= n) {
      this.pos = n;
      return false;
    }
    const start = i;
    do i++;
    while (i < n && isDescWordChar(text.charCodeAt(i)));
    out[this.n++] = text.slice(start, i);
    this.pos = i;
    return true;
  }
}

function isAZ(c: number): boolean {
  return c >= 97 && c <= 122;
}

function isDescWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 39 || c === 45;
}

const NESTED_CODE_KEYS = new Set(["javascript", "js_code", "script", "shell_command", "python_code", "bash"]);
const NESTED_CODE_ENUM = /^(execute|exec|run|eval(uate)?)[ _-]?(java[ _-]?script|js|script|code)$/i;

const NESTED_OPS_KEYS = new Set(["operation", "operations", "action", "op", "command", "subcommand", "sub_command"]);

/** What one walk below a schema's top level found (see nestedSchema). */
interface Nested {
  /** The first option whose name or enum value means running code ("actions: executeJavascript"). */
  code?: string;
  /**
   * The operations listed below the top level: string enum or const values of an operation/action/command property
   * inside an object or a oneOf/anyOf branch ("selectSchema.anyOf[].operation: const 'get-user'"), at most 64.
   */
  ops: string[];
}

// The walk's stack, reused from tool to tool (nodes and their depths side by side).
const walkNodes: unknown[] = [];
const walkDepths: number[] = [];

/**
 * One walk below a schema's top level for nested code options and listed operations, depth-first from the last
 * property, at most 400 nodes and 6 levels. The operations walk differs in one point: it does not descend into an
 * operation property, which is also the only place it finds operations. So a schema without one lists none, and one
 * with one (rare) is read again by that walk (nestedOperations): both answers are what each walk alone gives.
 */
function nestedSchema(schema: unknown): Nested {
  const props = (schema as { properties?: unknown } | undefined)?.properties;
  const found: Nested = { ops: [] };
  if (!props || typeof props !== "object") return found;
  const nodes = walkNodes;
  const depths = walkDepths;
  let sp = 0;
  const top = props as Record<string, unknown>;
  for (const k in top) {
    nodes[sp] = top[k];
    depths[sp++] = 1;
  }
  let hasOps = false;
  let budget = 400;
  while (sp > 0 && budget-- > 0) {
    const node = nodes[--sp];
    nodes[sp] = undefined;
    const depth = depths[sp]!;
    if (!node || typeof node !== "object" || depth > 6) continue;
    const n = node as Record<string, unknown>;
    // The node's fields read in one enumeration of its keys (see readParams), then used in the order the rules read
    // them.
    let en: unknown;
    let c: unknown;
    let np: unknown;
    let items: unknown;
    let anyOf: unknown;
    let oneOf: unknown;
    let allOf: unknown;
    for (const k in n) {
      if (k === "properties") np = n[k];
      else if (k === "items") items = n[k];
      else if (k === "enum") en = n[k];
      else if (k === "const") c = n[k];
      else if (k === "anyOf") anyOf = n[k];
      else if (k === "oneOf") oneOf = n[k];
      else if (k === "allOf") allOf = n[k];
    }
    if (found.code === undefined) {
      if (Array.isArray(en)) {
        for (const e of en)
          if (typeof e === "string" && NESTED_CODE_ENUM.test(e)) {
            found.code = e;
            break;
          }
      }
      if (found.code === undefined && typeof c === "string" && NESTED_CODE_ENUM.test(c)) found.code = c;
    }
    if (np && typeof np === "object") {
      const o = np as Record<string, unknown>;
      for (const k in o) {
        const v = o[k];
        const lower = lowerKey(k);
        if (found.code === undefined && NESTED_CODE_KEYS.has(lower)) found.code = k;
        if (v && typeof v === "object" && NESTED_OPS_KEYS.has(lower)) hasOps = true;
        nodes[sp] = v;
        depths[sp++] = depth + 1;
      }
    }
    if (items) {
      nodes[sp] = items;
      depths[sp++] = depth + 1;
    }
    if (Array.isArray(anyOf))
      for (const v of anyOf) {
        nodes[sp] = v;
        depths[sp++] = depth + 1;
      }
    if (Array.isArray(oneOf))
      for (const v of oneOf) {
        nodes[sp] = v;
        depths[sp++] = depth + 1;
      }
    if (Array.isArray(allOf))
      for (const v of allOf) {
        nodes[sp] = v;
        depths[sp++] = depth + 1;
      }
  }
  // Nothing of this schema stays reachable from the shared stack.
  while (sp > 0) nodes[--sp] = undefined;
  if (hasOps) found.ops = nestedOperations(schema);
  return found;
}

const NESTED_BRANCHES = ["anyOf", "oneOf", "allOf"] as const;

/** `k.toLowerCase()`, without a copy when nothing changes (no ASCII capital, nothing beyond ASCII): most keys. */
function lowerKey(k: string): string {
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c > 127) return k.toLowerCase();
  }
  return k;
}

/** The operations walk alone, for schemas with an operation property (see nestedSchema). */
function nestedOperations(schema: unknown): string[] {
  const props = (schema as { properties?: unknown } | undefined)?.properties;
  if (!props || typeof props !== "object") return [];
  const out: string[] = [];
  const stack: Array<[unknown, number]> = [];
  for (const v of Object.values(props as Record<string, unknown>)) stack.push([v, 1]);
  let budget = 400;
  while (stack.length && budget-- > 0) {
    const [node, depth] = stack.pop()!;
    if (!node || typeof node !== "object" || depth > 6) continue;
    const n = node as Record<string, unknown>;
    if (n.properties && typeof n.properties === "object")
      for (const [k, v] of Object.entries(n.properties as Record<string, unknown>)) {
        const p = v && typeof v === "object" ? (v as Record<string, unknown>) : undefined;
        if (p && NESTED_OPS_KEYS.has(k.toLowerCase())) {
          if (typeof p.const === "string") out.push(p.const);
          if (Array.isArray(p.enum)) for (const e of p.enum) if (typeof e === "string") out.push(e);
        } else stack.push([v, depth + 1]);
      }
    if (n.items) stack.push([n.items, depth + 1]);
    for (const key of NESTED_BRANCHES)
      if (Array.isArray(n[key])) for (const v of n[key] as unknown[]) stack.push([v, depth + 1]);
  }
  return out.slice(0, 64);
}

/**
 * Every phrase regex that reads the (lower-cased) description or its first sentence: one scan of the description
 * tells which of them can match at all (see phrases.ts). A regex left out of this list still works; it just always runs.
 */
const TRIGGER_ANY = new RegExp(TRIGGER.source);
const CRUD = /crud/;
const DESC_PHRASES: RegExp[] = [
  TRIGGER_ANY,
  CRUD,
  SQL_WORDS,
  SQL_READONLY,
  SQL_WRITE,
  SAFE_QUERY_LANG,
  EXEC_PHRASE,
  BROWSER_JS,
  AGENT_DELEGATION,
  AUTONOMOUS_AGENT,
  LAUNCH_OBJECTS_RE,
  DESTRUCTIVE_PHRASE,
  NEGATED_DESTRUCTIVE,
  READONLY_PHRASE,
  WAITS_FOR_JOB,
  WHOLESALE_SECRETS,
  MESSAGE_PHRASE,
  MONEY_MOVE,
  MONEY_WORDS,
  APPLY_MANIFEST,
  REPLACE_PHRASE,
  OMITTED_REMOVED,
  TRASH_PHRASE,
  END_SESSIONS,
  BILLS_PHRASE,
  REVERT_TO_STATUS,
  ROUTER_PHRASE,
  HARMLESS_PHRASE,
  VERSIONED_PHRASE,
  CAPTURE_OBJECTS,
  ROUTER_OPENING,
  NOT_FOR_MODEL,
  STATE_CHANGE,
  SERVER_PROCESS_CODE,
  KERNEL_RESTART,
  REFUSES_EXISTING,
  KEY_VALUE_SET,
  EXPORT_TO_FILE,
];
/**
 * One case-folding scan of the raw description serves the rules above and then, continued over the name, titles and
 * schema prose, the poisoning flags.
 */
const PHRASES = new PhraseSet([...DESC_PHRASES, ...FLAG_REGEXES], true, INVISIBLE_MARKS);
/** The phrases read in each parameter's own description, gated the same way. */
const PARAM_PHRASES = new PhraseSet([OMITTED_REMOVED, FLAG_DELETES], true);

/**
 * Which trigger families the description holds, computed only when a rule asks: each rule first checks its own
 * phrase (cheap when the scan rules it out), then the family, so the answer is the same as checking family first.
 * A class, not a closure: closures made per tool cost an allocation each (and, under tsx/esbuild keepNames, a
 * defineProperty call that took a tenth of the classifier's time).
 */
class Families {
  private set: Set<string> | undefined;
  constructor(
    private readonly desc: string,
    private readonly ds: Scan,
  ) {}
  has(f: string): boolean {
    this.set ??= triggerFamilies(this.desc, this.ds);
    return this.set.has(f);
  }
}

/**
 * Running code is destructive with write access; browser JavaScript is not by itself, unless it runs in the server's
 * own process ("executes arbitrary JavaScript in the Playwright server process and is RCE-equivalent"). Asked only by
 * the few rules that record it (most tools never need it).
 */
function codeRun(fs: Scan, ds: Scan, tokens: string[]): boolean {
  return (!fs.test(BROWSER_JS) && !tokens.some((x) => BROWSER_JS_TOKENS.has(x))) || ds.test(SERVER_PROCESS_CODE);
}

/** Whether the description says the tool runs code, commands or scripts. */
function saysRunsCode(ds: Scan, fam: Families): boolean {
  return ds.test(EXEC_PHRASE) && fam.has("exec");
}

/** Whether the name says the tool takes a query (for a query/command parameter to count as SQL). */
function queryNamed(nameTokens: string[], primary: VerbClass | undefined, verb: string | undefined): boolean {
  return (
    nameTokens.includes("query") ||
    nameTokens.includes("sql") ||
    nameTokens.includes("statement") ||
    nameTokens.includes("psql") ||
    nameTokens.includes("cypher") ||
    primary === "execute" ||
    primary === "run" ||
    verb === "query" ||
    !verb
  );
}

/** The parameters' descriptions, lower-cased and joined. */
function paramTextOf(params: ParamInfo[]): string {
  return params.length > 0
    ? params
        .map((p) => p.description)
        .join(" ")
        .toLowerCase()
    : "";
}

/** A multi-operation verb, as is or without a final "s" or "es" ("manages", "handles"). */
function isMultiOpVerb(w: string): boolean {
  return (
    MULTI_OP_VERBS.has(w) ||
    (endsWith(w, "s") && MULTI_OP_VERBS.has(w.slice(0, -1))) ||
    (endsWith(w, "es") && MULTI_OP_VERBS.has(w.slice(0, -2)))
  );
}

/** /\b(or|and) delete/.test(text), running the regex only when the text holds " delete". */
function orDelete(text: string): boolean {
  return text.includes(" delete") && OR_DELETE.test(text);
}
const OR_DELETE = /\b(or|and) delete/;

/**
 * s.endsWith(suffix), compared from the last character (the builtin call cost more than the comparison: it ran
 * several times for every parameter of every tool).
 */
function endsWith(s: string, suffix: string): boolean {
  const n = s.length;
  const m = suffix.length;
  if (n < m) return false;
  for (let i = 1; i <= m; i++) if (s.charCodeAt(n - i) !== suffix.charCodeAt(m - i)) return false;
  return true;
}

/**
 * Every word the opening-verb rule looks up, with the roles it plays there (bits below) and its verb class: one lookup
 * per word instead of one per set. Built from the sets themselves.
 */
const W_SKIP = 1;
const W_LIGHT = 2;
const W_DESC_READ = 4;
const W_CAPTURE = 8;
/** READ_JOB_VERBS holds the word without a final "s" (as the rule's `base`). */
const W_READ_JOB = 16;
/** The word without a final "s" is "select". */
const W_SELECT = 32;
const W_NOUN_LIKE = 64;
interface OpeningWord {
  roles: number;
  verb: VerbClass | undefined;
}
const OPENING_WORDS = new Map<string, OpeningWord>();
function openingRole(w: string, bit: number): void {
  let info = OPENING_WORDS.get(w);
  if (!info) {
    info = { roles: 0, verb: VERBS.get(w) };
    OPENING_WORDS.set(w, info);
  }
  info.roles |= bit;
}
/** The words whose `endsWith(w, "s") ? w.slice(0, -1) : w` is `base`. */
function withBase(base: string): string[] {
  return endsWith(base, "s") ? [`${base}s`] : [base, `${base}s`];
}
for (const w of SKIP_DESC_WORDS) openingRole(w, W_SKIP);
for (const w of LIGHT_VERBS) openingRole(w, W_LIGHT);
for (const w of DESC_READ) openingRole(w, W_DESC_READ);
for (const w of CAPTURE_VERBS) openingRole(w, W_CAPTURE);
for (const v of READ_JOB_VERBS) for (const w of withBase(v)) openingRole(w, W_READ_JOB);
for (const w of withBase("select")) openingRole(w, W_SELECT);
for (const w of NOUN_LIKE) openingRole(w, W_NOUN_LIKE);
for (const w of VERBS.keys()) openingRole(w, 0);

/**
 * Regexes of the rules below, compiled once: a regex literal inside a function is a new RegExp object each time it
 * is evaluated (here per tool, some per parameter or enum value).
 */
const DELETED_STATUS = /^(deleted|voided|void|destroyed|purged)$/i;
const MONEY_MATTER_OBJECTS = /^(invoices?|payments?|charges?|orders?|transactions?)$/;
const BILLED_STATUS = /^(billed|charged|paid|captured)$/i;
const DELETED_OUTPUT = /^(deleted|deleted_count|deletedcount|removed)$/;
const RUNS_QUERY = /\b(quer|search|report|analys|check)/;
const OPEN_NEW = /^open (a )?new (tab|window|page)/;
const THIS_TOOL = /^this tool /;
const OPENS_URL = /\b(browser|url|link|web ?page|website)\b/;
const BILLING_PRICING = /\b(billing|pricing)\b/;
const CODE_RUN_ON_ITS_OWN = /\b(execut|evaluat|inject)|\bruns?\b/;
const CODE_RUN_WORD = /\b(execut|run|evaluat)/;
const TRAILING_S = /s$/;

/** Verbs that make a new item (a status given to a new item deletes nothing). */
const NEW_ITEM_VERBS = new Set(["create", "add", "new", "insert", "make"]);

/** How much of a description the rules read. */
const DESC_CUT = 4000;
/** The lower-cased description extract last read (its first DESC_CUT characters). */
let lastLowerDesc = "";

/** Classifies a tool from its name, description, schemas and annotations. Pure and deterministic. */
export function classifyHeuristic(tool: ToolInput, model?: HeuristicModel): Classification {
  const scan = PHRASES.begin();
  const features = extract(tool, scan);
  const v = decide(features, model);
  // Sized once (pushing onto [] reserves 16 slots, then grows).
  const nf = features.length;
  const notes = v.notes;
  const signals: string[] = new Array(nf + notes.length);
  for (let i = 0; i < nf; i++) signals[i] = renderSignal(features[i]!);
  for (let i = 0; i < notes.length; i++) signals[nf + i] = notes[i]!;
  const classification: Classification = {
    access: v.access,
    destructive: v.destructive,
    financial: v.financial,
    category: deriveCategory(v.access, v.destructive, v.financial),
    risk: v.risk,
    confidence: v.confidence,
    signals,
    flags: [],
    source: "heuristic",
    classifierVersion: CLASSIFIER_VERSION,
  };
  // The flags' shadowing check reads the lower-cased description, which extract made (whole when under its cut).
  const flags = detectFlagsAfter(
    tool,
    classification,
    scan,
    (tool.description ?? "").length <= DESC_CUT ? lastLowerDesc : undefined,
  );
  if (v.unsure) flags.push("unsure");
  classification.flags = flags;
  return classification;
}

/** Reads a tool's name, title, description, parameters, output schema and annotations into features. */
export function extractFeatures(tool: ToolInput): Feature[] {
  return extract(tool, PHRASES.begin());
}

/**
 * extractFeatures on a fresh scan, whose first part becomes the tool's whole raw description.
 *
 * Each section runs as its own small function (nameVerbSection … outputAndAnnotationSection): as one function of
 * several hundred lines the optimising compiler took 0.3–1.3 s of CPU per compilation and recompiled it after every
 * rare branch first taken, while the whole of it ran unoptimised; small functions compile in milliseconds and a rare
 * branch recompiles only its own section (scripts/bench-classifier.ts: 13–18 % less CPU per tool). The sections are
 * top-level functions that share one ToolCtx object per tool: as `(() => { … })()` blocks inside extract each made a
 * closure per tool, and their shared variables a context (~530 bytes a tool, 9 % of the classifier's allocation).
 *
 * Speed: no named closure (`const f = () => …`) inside extract or the functions it calls per tool. Each costs an
 * allocation, and under tsx (esbuild keepNames, what scripts/bench-classifier.ts runs) an Object.defineProperty too:
 * one such helper took 3–5 % of the classifier's time. Use a top-level function, a method of Evidence or a small class.
 */
function extract(tool: ToolInput, scan: Parts): Feature[] {
  const t = new Evidence();
  const name = parseName(tool.name ?? "");
  const params = readParams(tool.inputSchema);
  const rawDesc = (tool.description ?? "").slice(0, DESC_CUT);
  const desc = rawDesc.toLowerCase();
  lastLowerDesc = desc;
  const ann = tool.annotations && typeof tool.annotations === "object" ? tool.annotations : undefined;
  const annTitle = typeof ann?.title === "string" ? ann.title : "";
  const title =
    (tool.title ?? "") === "" && annTitle === "" ? "" : `${tool.title ?? ""} ${annTitle}`.trim().toLowerCase();
  // The scan reads the raw description (case-folded); its positions are the lower-cased copy's while lower-casing
  // keeps the length, which it nearly always does (else every phrase regex simply runs).
  scan.more(`${tool.description ?? ""}`);
  const ds = desc.length === rawDesc.length ? scan.view(desc, desc.length) : PHRASES.plain(desc);
  const first = firstSentence(desc);
  // Without a sign-post cut, the first sentence is a prefix of the description: no need to compare them.
  const fs = firstIsPrefix ? ds.prefix(first) : ds.sub(first);
  const fam = new Families(desc, ds);
  const firstWords = new Words(first, 14);
  const verb = name.verb;
  const nested = nestedSchema(tool.inputSchema);
  const c: ToolCtx = {
    tool,
    t,
    name,
    params,
    desc,
    ds,
    fs,
    first,
    firstWords,
    fam,
    title,
    ann,
    objects: name.objects,
    tokens: name.tokens,
    verb,
    primary: name.verbClass,
    weakNameVerb: false,
    descVerb: undefined,
    descClass: undefined,
    descSense: false,
    descMultiOp: false,
    opsParam: undefined,
    routerParam: undefined,
    nested,
    routerReads: false,
    multiOp: false,
    sqlHandled: false,
  };
  // --- name verb -------------------------------------------------------------------------------------------
  nameVerbSection(c);
  // --- description: opening verb ------------------------------------------------------------------------------
  openingVerbSection(c);
  // --- multi-operation tools ------------------------------------------------------------------------------------
  // "Manage backups: …" opening a description of a tool whose name has no verb: the operations it names decide.
  const descVerb = c.descVerb;
  const descMultiOp = descVerb !== undefined && isMultiOpVerb(descVerb);
  const opsParam = withRole(params, R_OPS);
  // A router tool's "command" names one of its own sub-commands (listed elsewhere), not code or a shell line: what it
  // can do is hidden from the definition, so the verdict rests on the operations its description names.
  const cmd = withRole(params, R_CODE);
  const routerParam =
    cmd &&
    (ds.test(ROUTER_PHRASE) || ROUTER_PHRASE.test(cmd.description.toLowerCase())) &&
    !(ds.test(EXEC_PHRASE) && fam.has("exec"))
      ? cmd
      : undefined;
  c.descMultiOp = descMultiOp;
  c.opsParam = opsParam;
  c.routerParam = routerParam;
  c.multiOp =
    !!routerParam ||
    !!opsParam ||
    nested.ops.length > 0 ||
    (verb !== undefined && MULTI_OP_VERBS.has(verb)) ||
    (verb === undefined && descMultiOp) ||
    (ds.may(CRUD) && fam.has("crud"));
  operationsSection(c);
  // --- parameters ----------------------------------------------------------------------------------------------
  parameterSection(c);
  httpAndSwitchSection(c);
  // --- description phrases ---------------------------------------------------------------------------------------
  phraseSection(c);
  // --- financial ----------------------------------------------------------------------------------------------------
  moneySection(c);
  // --- output schema, annotations ------------------------------------------------------------------------------------
  outputAndAnnotationSection(c);
  riskFeatures(t, c);
  return t.features();
}

/**
 * What extract's sections share for one tool: one object per tool, passed to each section (a top-level function),
 * instead of a closure and its context made per section per tool. The fields below `verb` are what earlier sections
 * found and later ones read. Also the risk cues' context (RiskCtx).
 */
interface ToolCtx extends RiskCtx {
  tool: ToolInput;
  t: Evidence;
  name: NameParse;
  params: ParamInfo[];
  fam: Families;
  title: string;
  ann: ToolInput["annotations"];
  weakNameVerb: boolean;
  descVerb: string | undefined;
  descClass: VerbClass | undefined;
  descSense: boolean;
  descMultiOp: boolean;
  opsParam: ParamInfo | undefined;
  routerParam: ParamInfo | undefined;
  nested: Nested;
  routerReads: boolean;
  multiOp: boolean;
}

/** The name's verb, its secondary verbs, an information noun. */
function nameVerbSection(c: ToolCtx): void {
  const { t, name, ds, fs, first, objects, tokens: nameTokens, verb } = c;
  let primary = c.primary;
  let weakNameVerb = c.weakNameVerb;
  if (verb && primary) {
    if (primary === "run") {
      const ro = objects.find((o) => RUN_READ_OBJECTS.has(o));
      const tool = objects.find((o) => o === "tool" || o === "tools");
      if (tool) {
        t.dispatchesTools("name", `${verb} ${tool}`);
        primary = "execute";
      } else if (ro) {
        t.add("name.run.read_object", "name", `${verb} ${ro}`, "read", 2, `name verb '${verb}' runs a ${ro}`);
        primary = "read";
      } else {
        t.add("name.run", "name", verb, "execute", 3, `name verb '${verb}' runs something`);
        primary = "execute";
      }
    } else if (primary === "read") {
      const weak = WEAK_READ_VERBS.has(verb);
      t.add(weak ? "name.verb.read_weak" : "name.verb.read", "name", verb, "read", weak ? 2 : 3, `name verb '${verb}'`);
    } else if (primary === "write" && name.verbIndex > 0 && NOUN_LIKE.has(verb)) {
      // After a prefix, a word like "block" or "place" is usually a noun ("rpc_block_info").
      t.add("name.verb.write_nounlike", "name", verb, "write", 1, `name word '${verb}' may be a verb (weak)`);
      weakNameVerb = true;
    } else if (primary === "write" && READ_JOB_VERBS.has(verb) && name.tokens.some((x) => READ_JOB_OBJECTS.has(x))) {
      const job = name.tokens.find((x) => READ_JOB_OBJECTS.has(x))!;
      // A stated labelling rule, so it counts more than a bare verb: it outweighs an author's readOnlyHint=false.
      t.add("name.read_job", "name", `${verb} ${job}`, "read", 4, `'${verb}' of the caller's own ${job} only reads`);
      primary = "read";
    } else if (
      primary === "write" &&
      RESTART_VERBS.has(verb) &&
      (objects.includes("kernel") || fs.test(KERNEL_RESTART))
    ) {
      // Restarting a kernel or interpreter ends the running process and loses its in-memory state.
      t.add("name.verb.write", "name", verb, "write", 3, `name verb '${verb}'`);
      t.add("name.restart_process", "name", `${verb} kernel`, "destructive", 2, `'${verb}' ends a running kernel`);
    } else if (primary === "write" && ENDING_VERBS.has(verb) && name.tokens.some((x) => OWN_SESSION_OBJECTS.has(x))) {
      // Closing or stopping the agent's own page, session or port-forward is plumbing by one reading of the rules
      // and a write by another: the verdict stays write, and unsure.
      t.add("name.verb.write", "name", verb, "write", 3, `name verb '${verb}'`);
      const own = name.tokens.find((x) => OWN_SESSION_OBJECTS.has(x))!;
      t.add("name.ends_own_session", "name", `${verb} ${own}`, "unsure", 0, `'${verb}' of the agent's own ${own}`);
    } else if (primary === "write" && verb === "select" && objects.length === 1 && SESSION_OBJECTS.has(objects[0]!)) {
      t.add("name.select_session", "name", `select ${objects[0]}`, "read", 3, `selecting a ${objects[0]} is plumbing`);
      primary = "read";
    } else if (primary === "write" && PLUMBING_VERBS.has(verb) && objects.every((o) => PLUMBING_OBJECTS.has(o))) {
      t.add("name.plumbing", "name", verb, "read", 2, `'${verb}' of the server's own connection is session plumbing`);
      primary = "read";
    } else if (primary === "write") {
      const launched = objects.find((o) => LAUNCH_OBJECTS.has(o));
      if (LAUNCH_NAME_VERBS.has(verb) && launched)
        t.add("name.launch", "name", `${verb} ${launched}`, "execute", 3, `name verb '${verb}' launches a ${launched}`);
      else if (verb === "create" && objects.some((o) => CREATE_LAUNCH_OBJECTS.has(o)))
        t.add("name.create_workload", "name", `${verb} ${objects.join(" ")}`, "execute", 3, "name creates a workload");
      else t.add("name.verb.write", "name", verb, "write", 3, `name verb '${verb}'`);
    } else if (primary === "destructive") {
      // "Unassign or delete an assignment": the description says it can delete the record itself.
      const assoc = orDelete(first) ? undefined : linkOnly(verb, objects, name.tokens);
      const toStatus = !assoc && ds.exec(REVERT_TO_STATUS)?.[0];
      t.add("name.verb.write", "name", verb, "write", 3, `name verb '${verb}'`);
      if (assoc)
        t.note(
          "name.unlink_association",
          "name",
          `${verb} ${assoc}`,
          "destructive",
          `'${verb}' of a ${assoc} only breaks an association → not destructive`,
        );
      else if (toStatus)
        t.note(
          "desc.revert_to_status",
          "description",
          toStatus,
          "destructive",
          `'${toStatus}' only moves a status back → not destructive`,
        );
      else t.add("name.verb.destructive", "name", verb, "destructive", 3, `name verb '${verb}'`);
    } else if (primary === "execute") {
      // "execute_x_tool": runs whichever tool it is given, so it can do what the most dangerous of them does.
      const tool = objects.find((o) => o === "tool" || o === "tools");
      if (tool) t.dispatchesTools("name", `${verb} ${tool}`);
      else
        t.add(
          "name.verb.execute",
          "name",
          verb,
          "execute",
          3,
          `name verb '${verb}'`,
          CODE_VERBS.has(verb) && codeRun(fs, ds, name.tokens),
        );
    }
  } else {
    const info = name.tokens.find((x) => INFO_NOUNS.has(x));
    if (info) t.add("name.info_noun", "name", info, "read", 2, `name is an information noun ('${info}')`);
  }
  if (primary !== "read" && primary !== "destructive") {
    // The first later name word that is a destructive verb and not a secondary one (a loop: a callback reading
    // `name` would give this section a context allocated on every call).
    let later: string | undefined;
    for (let i = name.verbIndex + 1; i < nameTokens.length; i++) {
      const w = nameTokens[i]!;
      if (BASE_VERBS.get(w) === "destructive" && !isSecondary(name.secondary, w)) {
        later = w;
        break;
      }
    }
    if (later) t.add("name.mentions_destructive", "name", later, "destructive", 2, `name mentions '${later}'`);
  }
  for (const [v, cls] of name.secondary) {
    if (cls === "destructive") {
      t.add("name.also.write", "name", v, "write", 2, `name also says '${v}'`);
      t.add("name.also.destructive", "name", v, "destructive", 2, `name also says '${v}'`);
    } else if (cls === "execute" || cls === "run")
      t.add("name.also.execute", "name", v, "execute", 3, `name also says '${v}'`);
    else if (cls === "write") t.add("name.also.write", "name", v, "write", 2, `name also says '${v}'`);
  }
  if ((nameTokens.includes("on") || nameTokens.includes("off")) && (!verb || primary === "write"))
    t.add("name.on_off", "name", "on/off", "write", 1, "name switches something on/off");
  c.primary = primary;
  c.weakNameVerb = weakNameVerb;
}

/** The description's opening verb, later-sentence verbs, state changes, opening a URL, exports and the title's verb. */
function openingVerbSection(c: ToolCtx): void {
  const { t, name, params, desc, ds, fs, first, firstWords, title, objects, verb } = c;
  const primary = c.primary;
  const weakNameVerb = c.weakNameVerb;
  let descVerb = c.descVerb;
  let descClass = c.descClass;
  let descSense = c.descSense;
  // "Select and run one of the following operations": the operations decide, not the opening verb.
  const routerOpening = fs.test(ROUTER_OPENING);
  for (let i = 0; !routerOpening; i++) {
    const w = firstWords.at(i);
    if (w === undefined) break;
    const info = OPENING_WORDS.get(w);
    if (info === undefined) continue;
    const r = info.roles;
    if ((r & W_SKIP) !== 0) continue;
    if ((r & W_LIGHT) !== 0) {
      const next = firstWords.slice(i + 1, i + 4).find((x) => LIGHT_READ_NOUNS.test(x));
      if (next) {
        descVerb = `${w} ${next}`;
        descClass = "read";
        break;
      }
    }
    if ((r & W_DESC_READ) !== 0) {
      descVerb = w;
      descClass = "read";
      break;
    }
    if (
      ((r & W_CAPTURE) !== 0 && fs.test(CAPTURE_OBJECTS)) ||
      ((r & W_READ_JOB) !== 0 && firstWords.slice(i + 1).some((x) => READ_JOB_OBJECTS.has(x))) ||
      ((r & W_SELECT) !== 0 && firstWords.slice(i + 1, i + 4).some((x) => SESSION_OBJECTS.has(x)))
    ) {
      descVerb = w;
      descClass = "read";
      descSense = true;
      break;
    }
    const cls = info.verb;
    if (cls && !((r & W_NOUN_LIKE) !== 0 && w !== firstWords.at(0))) {
      descVerb = w;
      descClass = cls;
      break;
    }
  }
  if (descVerb && descClass) {
    const weight = verb && !weakNameVerb ? 2 : 3;
    const why = `description opens with '${descVerb}'`;
    if (descClass === "read" && descSense)
      t.add("desc.verb.read_sense", "description", descVerb, "read", 3, `${why}: a capture or the caller's own job`);
    else if (descClass === "read") {
      const weak = WEAK_READ_VERBS.has(descVerb);
      t.add(weak ? "desc.verb.read_weak" : "desc.verb.read", "description", descVerb, "read", weak ? 1 : weight, why);
    } else if (descClass === "destructive") {
      const assoc =
        !orDelete(first) &&
        (objects.some((o) => ASSOCIATION_OBJECTS.has(o)) || !!linkOnly(verb ?? "", objects, name.tokens));
      t.add("desc.verb.write", "description", descVerb, "write", weight, why);
      if (!assoc && !ds.test(REVERT_TO_STATUS))
        t.add("desc.verb.destructive", "description", descVerb, "destructive", 2, why);
    } else if (descClass === "execute" || descClass === "run") {
      // "Executes a log query", "Runs a search": what is run decides.
      const at = first.indexOf(descVerb) + descVerb.length;
      const rest = first.slice(at, at + 60);
      if (RUNS_TOOLS.test(rest)) t.dispatchesTools("description", `${descVerb}${rest.match(RUNS_TOOLS)![0]}`.trim());
      else if (RUNS_QUERY.test(rest))
        t.add("desc.run.query", "description", descVerb, "read", 1, "description runs a query or search");
      else
        t.add(
          "desc.verb.execute",
          "description",
          descVerb,
          "execute",
          weight,
          why,
          CODE_VERBS.has(descVerb) && codeRun(fs, ds, name.tokens),
        );
    } else if (LAUNCH_VERBS.has(descVerb.replace(TRAILING_S, "")) && fs.test(LAUNCH_OBJECTS_RE)) {
      t.add(
        "desc.launch",
        "description",
        descVerb,
        "execute",
        weight,
        `description ${descVerb} a build, pipeline, job or workload`,
      );
    } else t.add("desc.verb.write", "description", descVerb, "write", weight, why);
  }
  // A later sentence that opens with a writing verb ("Triggers Okta to verify …", "Also creates …") is weak evidence
  // against a read: enough to keep a read verdict unsure.
  if (descClass === "read" || (!descClass && primary === "read")) {
    const later = laterWriteVerb(desc, first);
    if (later) t.add("desc.later_write", "description", later, "write", 1, `a later sentence says '${later}'`);
  }
  const moved = ds.exec(STATE_CHANGE)?.[0];
  if (moved) t.add("desc.state_change", "description", moved, "write", 2, `description says '${moved}'`);
  // "Open a new tab": opening a new page, tab or window changes the browser session.
  if (descVerb === "open" && OPEN_NEW.test(first.replace(THIS_TOOL, "")))
    t.add("desc.open_new", "description", "open new", "write", 2, "description opens a new tab, page or window");
  // "Open a web browser to a specific URL": opening a URL the caller gives in a browser is a navigation (write),
  // like navigate; opening a document or a record to read it stays read.
  if (
    (descVerb === "open" || descVerb === "opens" || verb === "open") &&
    OPENS_URL.test(first) &&
    params.some((p) => p.key === "url" || endsWith(p.key, "_url") || p.key === "link")
  )
    t.add(
      "open_url",
      "description",
      "open url",
      "write",
      4,
      "opens a URL the caller gives in a browser (a navigation)",
    );
  // Writing a copy of what the tool reads to a file is an export (read by the labelling rules) against the verb
  // "save"/"create": the two conflict, so the verdict is left unsure rather than a sure write.
  const exported = fs.exec(EXPORT_TO_FILE)?.[0];
  if (exported)
    t.add("desc.export_to_file", "description", exported, "read", 3, `'${exported}' is an export of what is read`);
  // A title usually restates the name; it only counts when the name has no verb, and a disagreement is recorded.
  if (title) {
    const tv = splitName(title).find((w) => BASE_VERBS.has(w));
    if (tv) {
      const cls = BASE_VERBS.get(tv)!;
      const b = cls === "run" ? "execute" : verbBucket(cls);
      if (!verb) t.add(`title.verb.${b}`, "title", tv, b, 2, `title verb '${tv}'`);
      else if (primary && b !== verbBucket(primary) && !(b === "execute" && primary === "run"))
        t.note("title.disagrees", "title", tv, b, `title verb '${tv}' disagrees with name verb '${verb}'`);
    }
  }
  c.descVerb = descVerb;
  c.descClass = descClass;
  c.descSense = descSense;
}

/** A multi-operation tool: the operations its schema lists or its description names. */
function operationsSection(c: ToolCtx): void {
  const { t, desc, ds, fam, verb, opsParam, routerParam, multiOp } = c;
  const subOps = c.nested.ops;
  const primary = c.primary;
  let routerReads = c.routerReads;
  if (multiOp) {
    let opWrite = false;
    let opDestroy = false;
    let opRead = false;
    let opRun: string | undefined;
    let opOther = false;
    let namedRead: string | undefined;
    for (const v of [...(opsParam?.enumValues ?? []), ...subOps]) {
      const w = splitName(v)[0];
      const cls = w ? VERBS.get(w) : undefined;
      if (cls === "destructive") opDestroy = true;
      else if (cls === "write") opWrite = true;
      else if (cls === "execute" || cls === "run") {
        opWrite = true;
        if (subOps.length > 0 && !RUN_READ_OBJECTS.has(splitName(v)[1] ?? "")) opRun ??= v;
      } else if (cls === "read") opRead = true;
      else opOther = true;
    }
    if (ds.may(CRUD) && fam.has("crud")) opDestroy = true;
    for (const line of capabilityLines(desc)) {
      // Each run of a-z (as line.split(/[^a-z]+/) without its empty pieces, which are no word).
      for (let i = 0, n = line.length; i < n; ) {
        if (!isAZ(line.charCodeAt(i))) {
          i++;
          continue;
        }
        const start = i;
        while (i < n && isAZ(line.charCodeAt(i))) i++;
        const w = line.slice(start, i);
        const g = GERUNDS.get(w) ?? (VERBS.get(w) === "destructive" ? "destructive" : undefined);
        if (g === "destructive") opDestroy = true;
        else if (g === "write") opWrite = true;
        else if (g === "read") namedRead = w;
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
    const on: Where = opsParam ? "parameter" : "description";
    const what = opsParam?.name ?? "operations";
    if (opDestroy) {
      t.add("ops.delete", on, what, "write", 3, "operations include deleting");
      t.add("ops.delete.destructive", on, what, "destructive", 2, "operations include deleting");
    } else if (opWrite) t.add("ops.write", on, what, "write", 3, "operations include creating or updating");
    else if (opRead && subOps.length > 0 && !opOther)
      t.add(
        "ops.listed_read_only",
        "parameter",
        subOps.join(", "),
        "read",
        3,
        "every operation the schema lists reads",
      );
    else if (opRead && opsParam)
      t.add("ops.read_only", "parameter", opsParam.name, "read", 1, `'${opsParam.name}' operations are all reads`);
    // A router whose description names only reading operations ("Includes operations for listing registries and
    // retrieving their settings") leans read; what it hides still keeps the verdict unsure.
    if (routerParam && namedRead && !opDestroy && !opWrite) {
      routerReads = true;
      t.add(
        "ops.router_named_reads",
        "description",
        namedRead,
        "read",
        3,
        `the operations named are reads ('${namedRead}')`,
      );
    }
    if (opRun)
      t.add("ops.launch", "parameter", opRun, "execute", 3, `the schema lists operation '${opRun}' (runs or deploys)`);
    if (!opDestroy && !opWrite && verb && MULTI_OP_VERBS.has(verb) && primary === "write") {
      // "Manage X" with only read operations described says little by itself.
      t.add(
        "name.manage_without_writes",
        "name",
        verb,
        "write",
        -3,
        `'${verb}' lists no write operation (cancels the verb)`,
      );
    }
  }
  c.routerReads = routerReads;
}

/** Parameters: SQL, code or commands, nested code, manifests, delegation to an agent. */
function parameterSection(c: ToolCtx): void {
  const { t, name, params, desc, ds, fs, fam, tokens: nameTokens, verb, routerParam, nested } = c;
  const primary = c.primary;
  const routerReads = c.routerReads;
  const readVerbStrong = primary === "read" && verb !== undefined && !WEAK_READ_VERBS.has(verb);
  const runsVerb =
    primary === "execute" || primary === "run" || name.secondary.some(([, c]) => c === "execute" || c === "run");
  // Code given to a storing verb is content ("create_script"); given to any other write verb it runs
  // ("navigate_page" with an initScript).
  const writesStored = primary === "write" && !runsVerb && STORE_VERBS.has(verb ?? "");
  const hasQueryParam = params.some(
    (p) =>
      p.key === "query" || p.key === "q" || endsWith(p.key, "_query") || p.key === "command" || p.key === "statement",
  );
  const sqlParam = withRole(params, R_SQL);
  let sqlHandled = false;
  const sqlCandidate = !!sqlParam || (hasQueryParam && queryNamed(nameTokens, primary, verb));
  // The parameters' descriptions, lower-cased, for the SQL rules (built only for a tool that may take SQL).
  const paramText = sqlCandidate ? paramTextOf(params) : "";
  if (sqlCandidate && (sqlParam || ds.test(SQL_WORDS) || SQL_WORDS.test(paramText) || ds.test(SQL_WRITE))) {
    sqlHandled = true;
    const on: Where = sqlParam ? "parameter" : "description";
    const what = sqlParam ? `parameter '${sqlParam.name}' takes SQL` : "takes a SQL query";
    const readOnly = ds.test(SQL_READONLY) || SQL_READONLY.test(paramText);
    // "Rejects writes, schema/admin operations" names writes only to refuse them.
    const writes =
      (ds.test(SQL_WRITE) && SQL_WRITE.test(withoutRefusals(desc))) || SQL_WRITE.test(withoutRefusals(paramText));
    const text = sqlParam?.name ?? "sql";
    c.sqlHandled = true;
    if (readOnly && !writes) t.add("sql.read_only", on, text, "read", 3, `${what}, restricted to read-only statements`);
    else if (writesStored && !writes) t.add("sql.stored", on, text, "write", 1, `${what} for a stored definition`);
    else {
      t.add("sql.unrestricted", on, text, "execute", 4, `${what} with no read-only restriction`, true);
      t.add("sql.unrestricted.destructive", on, text, "destructive", 3, "arbitrary SQL can modify or drop data");
    }
  } else if (hasQueryParam && ds.test(SAFE_QUERY_LANG)) {
    t.add(
      "query.safe_language",
      "description",
      "query",
      "read",
      1,
      "query language that cannot mutate (search/metrics/logs)",
    );
  }

  let codeParam = params.find(
    (p) => (p.roles & R_CODE) !== 0 || (p.key.includes("script") && SCRIPT_PARAM.test(p.key)),
  );
  if (codeParam && codeParam === routerParam) {
    t.add(
      "param.command_router",
      "parameter",
      codeParam.name,
      "unsure",
      routerReads ? 0 : 1,
      `parameter '${codeParam.name}' selects a sub-command the definition does not list`,
    );
    codeParam = undefined;
  }
  if (codeParam && !sqlHandled) {
    const execPhrase = saysRunsCode(ds, fam);
    const pdesc = codeParam.description.toLowerCase();
    const n = codeParam.name;
    // A script that runs before, after or inside the page ("initScript"), or a parameter its own description says
    // is run, makes the tool execute whatever its verb: an optional code parameter is never data.
    const runsOnItsOwn = RUN_SCRIPT_PARAM.test(codeParam.key) || CODE_RUN_ON_ITS_OWN.test(pdesc);
    const runsIt = runsVerb || !verb || execPhrase || runsOnItsOwn || CODE_RUN_WORD.test(pdesc);
    if (readVerbStrong && !execPhrase && !runsOnItsOwn)
      t.note("param.code.data", "parameter", n, "execute", `parameter '${n}' is data for a read verb`);
    else if (writesStored && !execPhrase)
      t.add("param.code.stored", "parameter", n, "write", 1, `parameter '${n}' is stored, not run`);
    else if (runsIt)
      t.add(
        "param.code.runs",
        "parameter",
        n,
        "execute",
        3,
        `parameter '${n}' takes code or a command to run`,
        codeRun(fs, ds, name.tokens),
      );
    else t.add("param.code.maybe", "parameter", n, "execute", 1, `parameter '${n}' may take code`);
  }
  // The phrase last: a read verb without a code parameter (most tools) never needs it.
  if (!sqlHandled && !(readVerbStrong && !codeParam) && saysRunsCode(ds, fam)) {
    const m = ds.exec(EXEC_PHRASE)?.[0] ?? "";
    t.add(
      "desc.runs_code",
      "description",
      m,
      "execute",
      3,
      `description says it runs code, commands or scripts ('${m}')`,
      codeRun(fs, ds, name.tokens),
    );
  }
  const nestedCode = nested.code;
  if (nestedCode && !codeParam && !sqlHandled)
    // An option below the top level runs code where the tool works (a page it scrapes, a viewer): execute, not
    // by itself the shell/OS/SQL access that makes a tool destructive.
    t.add("param.nested_code", "parameter", nestedCode, "execute", 3, `nested option '${nestedCode}' runs code`);
  const applies = ds.exec(APPLY_MANIFEST)?.[0];
  if (applies)
    t.add(
      "desc.applies_manifest",
      "description",
      applies,
      "execute",
      4,
      `description says '${applies}' (launches whatever the manifest describes)`,
    );
  if ((ds.test(AGENT_DELEGATION) || ds.test(AUTONOMOUS_AGENT)) && fam.has("agent")) {
    t.add(
      "desc.delegates_agent",
      "description",
      "agent",
      "execute",
      3,
      "delegates to an agent that may use its own tools",
    );
    t.add(
      "desc.delegates_agent.destructive",
      "description",
      "agent",
      "destructive",
      2,
      "a delegated agent has open-ended effects",
    );
  }
}

/** Parameters: an HTTP method, a destructive switch, overwrite/force. */
function httpAndSwitchSection(c: ToolCtx): void {
  const { t, params } = c;
  const primary = c.primary;
  const method = params.find((p) => p.key === "method" || p.key === "http_method" || p.key === "verb");
  // "The HTTP method we should use when calling the status_callback URL" is how the service calls back, not a
  // pass-through of the caller's request.
  if (method && !CALLBACK_METHOD.test(method.description.toLowerCase())) {
    const en = method.enumValues.map((v) => v.toUpperCase());
    const passThrough = params.some((p) =>
      ["url", "endpoint", "path", "body", "headers", "uri", "route", "data", "payload"].includes(p.key),
    );
    const n = method.name;
    if (en.length > 0) {
      if (en.includes("DELETE")) {
        t.add("param.http_delete", "parameter", n, "write", 4, `parameter '${n}' allows DELETE`);
        t.add("param.http_delete.destructive", "parameter", n, "destructive", 3, `parameter '${n}' allows DELETE`);
      } else if (en.some((m) => m === "POST" || m === "PUT" || m === "PATCH")) {
        const ms = en.filter((m) => m !== "GET" && m !== "HEAD").join("/");
        t.add("param.http_write", "parameter", n, "write", 4, `parameter '${n}' allows ${ms}`);
      } else if (en.every((m) => m === "GET" || m === "HEAD" || m === "OPTIONS")) {
        t.add("param.http_get_only", "parameter", n, "read", 1, `parameter '${n}' only allows GET`);
      }
    } else if (passThrough) {
      t.add("param.http_any", "parameter", n, "write", 4, `parameter '${n}' passes any HTTP method through`);
      t.add("param.http_any.destructive", "parameter", n, "destructive", 3, "a generic API pass-through can DELETE");
    }
  }
  for (const p of params) {
    if (
      ((p.roles & R_DESTRUCTIVE) !== 0 ||
        (destructiveKey(p.key) && splitName(p.name).some((w) => DESTRUCTIVE_PARAM_WORDS.has(w)))) &&
      !(primary === "read" && STATE_FILTER_PARAM.test(p.key))
    ) {
      t.add(
        "param.destructive_switch",
        "parameter",
        p.name,
        "write",
        3,
        `parameter '${p.name}' can ${p.key.replace(/_/g, " ")}`,
      );
      t.add("param.destructive_switch.destructive", "parameter", p.name, "destructive", 2, `parameter '${p.name}'`);
      break;
    }
  }
  const overwriteKey = params.some((p) => p.key === "overwrite");
  if (overwriteKey || params.some((p) => p.key === "force"))
    t.add(
      "param.overwrite",
      "parameter",
      overwriteKey ? "overwrite" : "force",
      "destructive",
      1,
      "parameter 'overwrite'/'force' can replace existing data",
    );
}

/** Description phrases: destructive, read-only, waiting for a job, in-place edits, replacing, deleting statuses. */
function phraseSection(c: ToolCtx): void {
  const { t, params, ds, fam, objects, verb } = c;
  const primary = c.primary;
  if (ds.test(DESTRUCTIVE_PHRASE) && fam.has("destr") && !ds.test(NEGATED_DESTRUCTIVE)) {
    const m = ds.exec(DESTRUCTIVE_PHRASE)?.[0] ?? "";
    t.add("desc.destructive_phrase", "description", m, "destructive", 2, `description says '${m}'`);
    if (primary === "read" || !primary)
      t.add("desc.destructive_phrase.notread", "description", m, "write", 1, `description says '${m}'`);
  }
  if (ds.test(READONLY_PHRASE) && fam.has("ro")) {
    const m = ds.exec(READONLY_PHRASE)?.[0] ?? "";
    t.add("desc.read_only_phrase", "description", m, "read", 2, `description says '${m}'`);
  }
  if (ds.test(WAITS_FOR_JOB) && fam.has("wait"))
    t.add(
      "desc.waits_for_job.notread",
      "description",
      "waits",
      "write",
      3,
      "description waits for a job to complete (it starts work)",
    );
  if (
    verb &&
    EDIT_IN_PLACE_VERBS.has(verb) &&
    (objects.some((o) => EDIT_IN_PLACE_OBJECTS.has(o)) || params.some((p) => (p.roles & R_PATH) !== 0)) &&
    !ds.test(VERSIONED_PHRASE)
  )
    t.add(
      "name.edit_in_place",
      "name",
      `${verb} ${objects.join(" ")}`,
      "destructive",
      2,
      `'${verb}' of ${objects.join(" ")} changes content in place with no history`,
    );
  // Moving or renaming a file onto a path that exists replaces that file, unless the tool says it refuses to.
  if (
    (verb === "move" || verb === "rename") &&
    objects.some((o) => o === "file" || o === "files") &&
    !ds.test(REFUSES_EXISTING)
  )
    t.add(
      "name.move_file",
      "name",
      `${verb} file`,
      "destructive",
      2,
      `'${verb}' of a file can replace the destination`,
    );
  // Setting key-value pairs overwrites the value that was there (the labelling rules' "key-value SET").
  if (primary !== "read" && ds.test(KEY_VALUE_SET))
    t.add("desc.key_value_set", "description", "key-value", "destructive", 2, "sets key-value pairs (overwrites)");
  // Overwrite, replace and set-the-whole-thing semantics lose the old content: destructive.
  const replaceVerb = verb !== undefined && REPLACE_VERBS.has(verb);
  const replaceDesc = ds.may(REPLACE_PHRASE) && fam.has("replace") ? ds.exec(REPLACE_PHRASE)?.[0] : undefined;
  if (replaceVerb || replaceDesc)
    t.add(
      "replace_semantics",
      replaceVerb ? "name" : "description",
      replaceVerb ? verb! : replaceDesc!,
      "destructive",
      2,
      replaceVerb ? `name verb '${verb}' replaces what was there` : `description says '${replaceDesc}'`,
    );
  // A status the caller may set to deleted or voided deletes or voids an existing item through that parameter
  // (creating an item in that status loses nothing).
  if (primary && primary !== "read" && t.hand.destructive < 2 && !NEW_ITEM_VERBS.has(verb ?? "")) {
    const statusParam = params.find((p) => statusKey(p.key) && p.enumValues.some((v) => DELETED_STATUS.test(v)));
    if (statusParam)
      t.add(
        "param.status_deletes",
        "parameter",
        statusParam.name,
        "destructive",
        2,
        `parameter '${statusParam.name}' can set the status to deleted or voided`,
      );
  }
  if (primary !== "read") {
    const omitted = ds.exec(OMITTED_REMOVED)?.[0];
    if (omitted && !replaceVerb && !replaceDesc)
      t.add("desc.omitted_removed", "description", omitted, "destructive", 2, `description says '${omitted}'`);
    const trash = ds.exec(TRASH_PHRASE)?.[0];
    if (trash) t.add("desc.trash", "description", trash, "destructive", 2, `description says '${trash}' (soft delete)`);
    const sessions = ds.exec(END_SESSIONS)?.[0];
    if (sessions)
      t.add("desc.end_sessions", "description", sessions, "destructive", 2, `description says '${sessions}'`);
    // What a parameter's own description says it does counts like the tool's: a list parameter whose omitted items
    // are removed replaces what was there, a switch that deletes when set deletes.
    if (t.hand.destructive < 2)
      for (const p of params) {
        if (!p.description) continue;
        // One case-folding scan of the raw text tells whether either phrase can match; most parameter
        // descriptions hold neither, and are then neither lower-cased nor matched.
        const gate = PARAM_PHRASES.begin();
        gate.more(p.description);
        const mayReplace = gate.may(OMITTED_REMOVED);
        const mayDelete = gate.may(FLAG_DELETES);
        if (!mayReplace && !mayDelete) continue;
        const pd = p.description.toLowerCase();
        const replaces = mayReplace ? OMITTED_REMOVED.exec(pd)?.[0] : undefined;
        const deletes = replaces || !mayDelete ? undefined : FLAG_DELETES.exec(pd)?.[0];
        if (replaces)
          t.add(
            "param.omitted_removed",
            "parameter",
            p.name,
            "destructive",
            2,
            `parameter '${p.name}' says '${replaces}' (the list given replaces what was there)`,
          );
        else if (deletes)
          t.add(
            "param.flag_deletes",
            "parameter",
            p.name,
            "destructive",
            2,
            `parameter '${p.name}' deletes when set ('${deletes}')`,
          );
        if (replaces || deletes) break;
      }
  }
}

/** Money: verbs, billing objects, money moved by the description, amounts. */
function moneySection(c: ToolCtx): void {
  const { t, params, ds, fs, first, fam, objects, verb } = c;
  const primary = c.primary;
  const moneyContext =
    fs.test(MONEY_WORDS) ||
    params.some((p) => p.key === "amount" || endsWith(p.key, "_amount") || p.key === "currency" || p.key === "price");
  if (
    verb &&
    ["finalize", "finalise", "void", "capture"].includes(verb) &&
    objects.some((o) => MONEY_MATTER_OBJECTS.test(o))
  ) {
    const what = `${verb} ${objects.join(" ")}`;
    t.add("money.close_matter", "name", what, "financial", 3, `'${what}' closes a financial matter`);
    t.add(
      "money.close_matter.destructive",
      "name",
      what,
      "destructive",
      3,
      `'${what}' closes a financial matter irreversibly`,
    );
  } else if (verb && MONEY_VERBS.has(verb)) {
    t.add("money.verb", "name", verb, "financial", 3, `name verb '${verb}' moves money`);
    t.add("money.verb.destructive", "name", verb, "destructive", 3, `name verb '${verb}' moves money`);
  } else if (verb && MONEY_VERBS_NEED_CONTEXT.has(verb) && moneyContext) {
    t.add("money.verb_in_context", "name", verb, "financial", 3, `'${verb}' of funds`);
    t.add("money.verb_in_context.destructive", "name", verb, "destructive", 3, `'${verb}' with money in play`);
  } else if (primary && primary !== "read") {
    const billing = objects.find((o) => BILLING_OBJECTS.has(o));
    if (billing && (billing !== "order" && billing !== "plan" ? true : moneyContext || objects.includes("billing"))) {
      t.add("money.billing_object", "name", billing, "financial", 2, `writes a ${billing} (billing)`);
      if (["refund", "refunds", "payout", "payouts", "charge", "charges"].includes(billing) && verb === "create")
        t.add("money.create_payment", "name", billing, "destructive", 2, `creating a ${billing} moves money`);
    } else if (primary === "write" && BILLING_PRICING.test(first)) {
      t.add("money.billing_desc", "description", "billing", "financial", 2, "description changes billing or pricing");
    }
  }
  if (primary !== "read" && t.hand.financial < 2 && ds.test(MONEY_MOVE) && fam.has("money")) {
    const m = ds.exec(MONEY_MOVE)?.[0] ?? "";
    t.add("money.desc_moves", "description", m, "financial", 3, `description says it ${m}`);
    t.add("money.desc_moves.destructive", "description", m, "destructive", 3, `description says it ${m}`);
  }
  if (primary && primary !== "read" && t.hand.destructive < 2) {
    const bills = ds.exec(BILLS_PHRASE)?.[0];
    const billedStatus = params.find((p) => statusKey(p.key) && p.enumValues.some((v) => BILLED_STATUS.test(v)));
    const what = bills ?? (billedStatus ? `${billedStatus.name}=billed` : undefined);
    if (what) {
      if (t.hand.financial < 2)
        t.add("money.desc_bills", bills ? "description" : "parameter", what, "financial", 3, `'${what}' moves money`);
      t.add(
        "money.desc_bills.destructive",
        bills ? "description" : "parameter",
        what,
        "destructive",
        3,
        `'${what}' moves money`,
      );
    }
  }
  const amountParam = params.find((p) => p.key === "amount" || endsWith(p.key, "_amount"));
  if (amountParam && primary !== "read" && t.hand.financial === 0 && ds.test(MONEY_WORDS))
    t.add(
      "money.amount_param",
      "parameter",
      amountParam.name,
      "financial",
      2,
      `parameter '${amountParam.name}' with payments in the description`,
    );
}

/** The output schema, plumbing notes, a multi-operation opening verb alone, and the annotations. */
function outputAndAnnotationSection(c: ToolCtx): void {
  const { tool, t, ds, ann, verb, descMultiOp } = c;
  const descVerb = c.descVerb;
  const outProps = readParams(tool.outputSchema);
  const deletedOut = outProps.find((p) => DELETED_OUTPUT.test(p.key));
  if (deletedOut) t.add("output.deleted", "output", deletedOut.name, "destructive", 1, "output reports deleted items");

  const internal = ds.exec(NOT_FOR_MODEL)?.[0];
  if (internal)
    t.add("desc.not_for_model", "description", internal, "unsure", 0, `description says '${internal}' (app plumbing)`);

  // "Manage backups: schedules, status, …": a description whose only access evidence is an opening verb that means
  // several operations without naming one says little; the verdict stays not-read (fail safe) but is unsure.
  if (
    !verb &&
    descVerb &&
    descMultiOp &&
    t.hand.read <= 0 &&
    t.hand.execute <= 0 &&
    !t.some((f) => (f.to === "write" || f.to === "unsure") && f.weight !== 0 && f.id !== "desc.verb.write")
  )
    t.add(
      "desc.multi_op_unnamed",
      "description",
      descVerb,
      "unsure",
      0,
      `'${descVerb}' names no operation and is the only evidence`,
    );

  // --- annotations (author's claims: one signal among several) --------------------------------------------------
  const ro = ann?.readOnlyHint;
  const de = ann?.destructiveHint;
  if (ro === true)
    t.add("ann.read_only", "annotation", "readOnlyHint", "read", 2, "annotation readOnlyHint=true (author's claim)");
  else if (ro === false)
    t.add(
      "ann.not_read_only",
      "annotation",
      "readOnlyHint",
      "write",
      3,
      "annotation readOnlyHint=false (author's claim)",
    );
  if (ro !== true) {
    if (de === true)
      t.add(
        "ann.destructive",
        "annotation",
        "destructiveHint",
        "destructive",
        1,
        "annotation destructiveHint=true (author's claim)",
      );
    else if (de === false)
      t.add(
        "ann.not_destructive",
        "annotation",
        "destructiveHint",
        "destructive",
        -1,
        "annotation destructiveHint=false (author's claim)",
      );
  }
}

interface RiskCtx {
  verb?: string;
  primary?: VerbClass;
  objects: string[];
  tokens: string[];
  desc: string;
  first: string;
  firstWords: Words;
  /** The description and its first sentence, scanned for phrases. */
  ds: Scan;
  fs: Scan;
  /** The SQL rules fired (a sql.* feature was recorded). */
  sqlHandled: boolean;
}

/**
 * The roles a name word plays in the risk cues (bits below): one lookup per object or verb instead of one per set.
 * Built from the sets themselves.
 */
const K_MESSAGE_OBJ = 1;
const K_PERMISSION_OBJ = 2;
const K_SIGN_IN_OBJ = 4;
const K_HARMLESS_OBJ = 8;
const K_STOP = 16;
const K_METADATA_OBJ = 32;
const K_SENSITIVE_OBJ = 64;
const K_MESSAGE_VERB = 128;
const K_PERMISSION_VERB = 256;
const K_SWITCH_VERB = 512;
const K_HARMLESS_VERB = 1024;
const RISK_WORDS = new Map<string, number>();
for (const [set, bit] of [
  [MESSAGE_OBJECTS, K_MESSAGE_OBJ],
  [PERMISSION_OBJECTS, K_PERMISSION_OBJ],
  [SIGN_IN_OBJECTS, K_SIGN_IN_OBJ],
  [HARMLESS_OBJECTS, K_HARMLESS_OBJ],
  [STOP_TOKENS, K_STOP],
  [METADATA_OBJECTS, K_METADATA_OBJ],
  [SENSITIVE_OBJECTS, K_SENSITIVE_OBJ],
  [MESSAGE_VERBS, K_MESSAGE_VERB],
  [PERMISSION_VERBS, K_PERMISSION_VERB],
  [SWITCH_VERBS, K_SWITCH_VERB],
  [HARMLESS_VERBS, K_HARMLESS_VERB],
] as const)
  for (const w of set) RISK_WORDS.set(w, (RISK_WORDS.get(w) ?? 0) | bit);

/** Risk cues for a write verdict and for a read verdict, most telling first (the decision takes the first). */
function riskFeatures(t: Evidence, c: RiskCtx): void {
  const verb = c.verb ?? "";
  const vr = RISK_WORDS.get(verb) ?? 0;
  // One lookup per object: the first object in each set, whether any is harmless, the last that is no stop word.
  let msgObj: string | undefined;
  let perm: string | undefined;
  let signIn: string | undefined;
  let sensitive: string | undefined;
  let harmlessObj = false;
  let head: string | undefined;
  let headRoles = 0;
  for (const o of c.objects) {
    const r = RISK_WORDS.get(o) ?? 0;
    if (r === 0) {
      head = o;
      headRoles = 0;
      continue;
    }
    if (msgObj === undefined && (r & K_MESSAGE_OBJ) !== 0) msgObj = o;
    if (perm === undefined && (r & K_PERMISSION_OBJ) !== 0) perm = o;
    if (signIn === undefined && (r & K_SIGN_IN_OBJ) !== 0) signIn = o;
    if (sensitive === undefined && (r & K_SENSITIVE_OBJ) !== 0) sensitive = o;
    if ((r & K_HARMLESS_OBJ) !== 0) harmlessObj = true;
    if ((r & K_STOP) === 0) {
      head = o;
      headRoles = r;
    }
  }
  // write
  if ((vr & K_MESSAGE_VERB) !== 0 || (verb === "post" && msgObj) || c.fs.test(MESSAGE_PHRASE))
    t.risk("risk.sends_message", "name", verb || "message", "high", "write", "sends messages to people");
  // Activating, deactivating or suspending a user, app or account decides who can sign in.
  const gate = (vr & K_SWITCH_VERB) !== 0 ? signIn : undefined;
  if ((vr & K_PERMISSION_VERB) !== 0 || perm || gate)
    t.risk("risk.permissions", "name", perm ?? gate ?? verb, "high", "write", "changes permissions, access or secrets");
  if ((verb === "install" || verb === "installs") && !c.objects.includes("directory"))
    t.risk("risk.installs", "name", verb, "high", "write", "installs third-party code");
  if (
    (vr & K_HARMLESS_VERB) !== 0 ||
    harmlessObj ||
    c.fs.test(HARMLESS_PHRASE) ||
    (c.primary === "read" && t.hand.write <= 2 && t.hand.execute <= 0)
  )
    t.risk("risk.harmless_state", "name", verb, "low", "write", "harmless local or session state");
  // read
  const secretTok = c.tokens.find(
    (x) => x === "env" || x === "environment" || x === "cookies" || x === "kubeconfig" || x === "secrets",
  );
  if (secretTok || c.ds.test(WHOLESALE_SECRETS))
    t.risk(
      "risk.wholesale_secrets",
      secretTok ? "name" : "description",
      secretTok ?? "secrets",
      "high",
      "read",
      "reads secrets or credentials wholesale",
    );
  if (head && (headRoles & K_METADATA_OBJ) !== 0 && !(head === "details" && sensitive))
    t.risk("risk.metadata", "name", head, "low", "read", `reads metadata ('${head}')`);
  if (sensitive)
    t.risk("risk.private_content", "name", sensitive, "medium", "read", `reads private content ('${sensitive}')`);
  if (verb === "read" || verb === "download" || verb === "dump")
    t.risk("risk.returns_content", "name", verb, "medium", "read", `'${verb}' returns content`);
  if (c.sqlHandled) t.risk("risk.database_rows", "parameter", "sql", "medium", "read", "returns database rows");
  if (c.objects.length === 0 || !c.verb) {
    const fw = c.firstWords.slice(0).find((w) => SENSITIVE_OBJECTS.has(w));
    if (fw)
      t.risk(
        "risk.private_content_desc",
        "description",
        fw,
        "medium",
        "read",
        `description reads private content ('${fw}')`,
      );
  }
}
