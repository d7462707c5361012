import type { Classification, ToolInput } from "../core/types.js";
import { type Parts, PhraseSet } from "./phrases.js";

/** What detectFlagsIn needs of a multi-part scan. */
export interface PartScan {
  /** Whether a code unit of INVISIBLE_MARKS occurred in the parts so far. */
  marked: boolean;
  more(part: string): void;
  may(re: RegExp): boolean;
}

/** Flags kept apart from the access/risk decision: they warn about the definition itself. */
export type Flag =
  | "annotation_contradiction"
  | "poisoning:hidden_instructions"
  | "poisoning:ignore_instructions"
  | "poisoning:sensitive_file"
  | "poisoning:secret_in_parameter"
  | "poisoning:invisible_unicode"
  | "poisoning:exfiltration_url"
  | "shadowing"
  /** The heuristics' confidence is below UNSURE_BELOW and no LLM settled the verdict: policies ask for approval. */
  | "unsure";

// Unicode tag characters (U+E0000–E007F), zero-width and bidi-control characters render as nothing yet reach the model.
const INVISIBLE = /[\u{E0000}-\u{E007F}\u200B-\u200F\u2060-\u2064\u202A-\u202E\u2066-\u2069\uFEFF\u180E]/u;
/**
 * Every code unit an INVISIBLE match starts with (the tag characters' high surrogate is U+DB40), and a few more: the
 * scans report whether one occurred, so INVISIBLE runs only on texts that hold one (a test checks the list).
 */
export const INVISIBLE_MARKS =
  "\u180E\u200B\u200C\u200D\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\uFEFF\uDB40";

const HIDDEN_BLOCK =
  /<\s*\/?\s*(important|system|instructions?|secret|hidden|admin|critical|note to (the )?(ai|assistant|model)|ai[_ -]?instructions?|assistant)\b[^>]{0,40}>|\[\s*(inst|system)\s*\]|<!--[\s\S]{0,400}?\b(must|always|never|do not|instruction)/;
const DONT_TELL =
  /\b(do not|don't|never)\s+(tell|mention|reveal|inform|notify|show|alert)\s+(this\s+to\s+)?(the\s+)?user\b|\bwithout (telling|informing|notifying) the user\b|\bthe user (must|should) not (know|see|be told)/;
const IGNORE =
  /\b(ignore|disregard|forget|override|bypass)\s+(all\s+|any\s+|the\s+|your\s+)*(previous|prior|above|earlier|preceding|other|system|original|safety)\s+(instructions?|prompts?|rules|directions|guidelines|messages)/;
const SENSITIVE_FILE =
  /~\/\.ssh|\.ssh\/|\bid_(rsa|dsa|ecdsa|ed25519)\b|(^|[\s'"`(/~])\.env(\.\w+)?\b(?!\s*(var|vari))|\/etc\/(passwd|shadow|sudoers)|\.aws\/credentials|\.npmrc|\.netrc|\.pgpass|\.kube\/config|\.git-credentials|\.docker\/config\.json|\bmcp\.json\b|claude_desktop_config|\.bash_history|\.zsh_history|wallet\.dat/;
const PASS_IN_PARAM =
  /\b(pass|put|include|send|provide|insert|add|append|place|copy|attach|embed|read)\b[^.]{0,120}\b(as|in|into|via|to|through|inside)\s+(the\s+|a\s+|this\s+)?[`'"]?\w+[`'"]?\s*(parameter|param|argument|field|arg)\b|\b(parameter|param|argument|field)\s+[`'"]?\w+[`'"]?[^.]{0,60}\b(must|should)\s+(contain|include|hold)/;
const SECRET_OBJECT =
  /\b(contents? of|content from|api[ _-]?keys?|secrets?|credentials?|passwords?|private keys?|ssh keys?|environment variables|env vars|conversation history|chat history|system prompt|previous messages|access tokens?|session cookies?|tokens?)\b/;
const STRONG_SECRET =
  /\b(contents? of|ssh|private keys?|environment variables|env vars|conversation history|chat history|system prompt|previous messages|all (the )?(api keys|secrets|credentials|passwords|tokens))\b|~\/|\.env\b/;
const URL = /https?:\/\/[^\s"'<>)\]]+/g;
const EXFIL_HOSTS =
  /webhook\.site|requestbin|pipedream\.net|ngrok(-free)?\.(io|app)|burpcollaborator|interact\.sh|oast\.(fun|live|pro|site)|beeceptor|hookbin|canarytokens|\.trycloudflare\.com/;
const URL_TEMPLATE = /[?&][\w.-]+=(\{|\$\{|<|%7b|\[|\{\{)/;
const SEND_TO_URL =
  /\b(send|post|upload|forward|transmit|exfiltrate|submit|report|leak|beacon|ping|curl|fetch|visit|load|request)\w*\b[^.]{0,80}\b(data|contents?|secrets?|keys?|tokens?|credentials?|conversation|history|results?|output|files?)\b[^.]{0,60}https?:\/\//;
const MD_IMAGE_DATA = /!\[[^\]]*\]\(https?:\/\/[^)]*[?&][^)]*=/;
const SHADOW =
  /\b(when|whenever|before|after|instead of)\s+(using|calling|invoking|running)\s+(any|every|all|other|another)\b|\b(all|any|every|other)\s+(other\s+)?(mcp\s+)?(tools?|servers?)\b[^.]{0,80}\b(must|should|always|never|instead|also|first)\b|\b(this|the)\s+tool\s+(must|should)\s+(always\s+)?be\s+(called|used|invoked)\s+(before|after|instead of)\s+(any|every|all|other)\b|\bother\s+(mcp\s+)?servers?\b|\boverrides?\s+(the\s+)?(behaviou?r|instructions)\s+of\b|\b(when|whenever|if)\s+(the\s+)?[`'"]?[a-z0-9]+(_[a-z0-9]+)+[`'"]?\s+tool\s+is\s+(called|used|invoked)[^.]{0,80}\b(must|always|never|instead|also)\b/;

function has(text: string, needles: readonly string[]): boolean {
  for (const n of needles) if (text.includes(n)) return true;
  return false;
}

// Two passes decide whether any poisoning regex could match; clean descriptions (nearly all) skip the rest. Split
// into punctuation-led and word-led (\b-anchored) patterns: one big unanchored alternation took a fifth of the
// classifier's time. Every downstream regex is word-bounded where this one is, so the gate stays a superset.
const FLAG_TRIGGER_PUNCT =
  /[<~]|http|\[(inst|system)|\.(ssh|env|aws|npmrc|netrc|pgpass|kube|git-cred|docker)|\/etc\/|id_(rsa|dsa|ecdsa|ed25519)|mcp\.json|claude_desktop|_history|wallet\.dat/;
const FLAG_TRIGGER_WORDS =
  /\b(?:ignor|disregard|forget|overrid|bypass|ssh|private key|environment variables|env vars|conversation history|chat history|system prompt|previous messages|(?:do not|don't|never) (?:tell|mention|reveal|inform|notify|show|alert)|without (?:telling|informing|notifying)|(?:must|should) not|contents? (?:of|from)|all (?:the )?(?:api keys|secrets|credentials|passwords|tokens))/;
const SENSITIVE_GATE = [
  ".ssh",
  "id_",
  ".env",
  "/etc/",
  ".aws",
  ".npmrc",
  ".netrc",
  ".pgpass",
  ".kube",
  ".git-cred",
  ".docker",
  "mcp.json",
  "claude_desktop",
  "_history",
  "wallet.dat",
];
const IGNORE_GATE = ["ignore", "disregard", "forget", "override", "bypass"];

const SCHEMA_TEXT_CAP = 20_000;

/**
 * The prose of a schema (property names, descriptions, titles, defaults, enum and example strings), without its
 * JSON scaffolding: that is where instructions hide, and scanning only it is several times cheaper than JSON.
 * `sink.more` receives each piece in order (a scan reads it, no closure per tool); the text is the pieces joined by line breaks, cut at SCHEMA_TEXT_CAP.
 */
function schemaPieces(schema: unknown, sink: { more(piece: string): void }): void {
  let size = 0;
  const stack = pieceStack;
  let sp = 0;
  stack[sp++] = schema;
  let guard = 0;
  while (sp > 0 && size < SCHEMA_TEXT_CAP && guard++ < 5_000) {
    const node = stack[--sp];
    stack[sp] = undefined;
    if (typeof node === "string") {
      sink.more(node);
      size += node.length + 1;
    } else if (Array.isArray(node)) {
      for (const v of node) stack[sp++] = v;
    } else if (node && typeof node === "object") {
      const o = node as Record<string, unknown>;
      // `for…in` rather than Object.keys: the optimising compiler then reads `o[k]` by the object's enum cache instead
      // of a megamorphic keyed lookup (schemas come in every shape); JSON objects inherit no enumerable fields, so the
      // keys and their order are Object.keys'.
      for (const k in o) {
        // Scaffolding keys first: their values are never read.
        if (k === "type" || k === "$schema" || k === "$ref" || k === "format" || k === "pattern") continue;
        const v = o[k];
        if (k === "properties" && v && typeof v === "object") {
          for (const name in v) {
            sink.more(name);
            size += name.length + 1;
          }
        }
        stack[sp++] = v;
      }
    }
  }
  // Nothing of this schema stays reachable from the shared stack.
  while (sp > 0) stack[--sp] = undefined;
}

/** schemaPieces' stack, reused from tool to tool (a sink never walks another schema meanwhile). */
const pieceStack: unknown[] = [];

function schemaText(schema: unknown): string {
  const parts: string[] = [];
  schemaPieces(schema, { more: (p) => parts.push(p) });
  return parts.join("\n").slice(0, SCHEMA_TEXT_CAP);
}

const SHADOW_WORDS = /must|should|always|never|instead|other server|other mcp|overrid|before |after /;

/**
 * One case-folding scan of the raw definition (name, titles, description, schema prose) tells whether any indicator
 * below can match; nearly every definition holds none, and is done without lower-casing or joining anything.
 */
/** The regexes the definition scan gates (the heuristics' shared scan includes them too). */
export const FLAG_REGEXES: readonly RegExp[] = [
  SHADOW_WORDS,
  SHADOW,
  FLAG_TRIGGER_PUNCT,
  FLAG_TRIGGER_WORDS,
  HIDDEN_BLOCK,
  DONT_TELL,
  IGNORE,
  SENSITIVE_FILE,
  STRONG_SECRET,
  PASS_IN_PARAM,
  SEND_TO_URL,
  MD_IMAGE_DATA,
];
const FLAG_PHRASES = new PhraseSet(FLAG_REGEXES, true, INVISIBLE_MARKS);

/**
 * A scan whose first parts (the description) were read by a larger set that holds FLAG_REGEXES, continued over the
 * remaining texts (name, titles, schema prose) by the flags' own set: its automaton is a sixth of the size (971 states
 * against 5,886), so the long schema prose is read several times faster. A regex may match when a literal of it
 * occurred in the parts either set read, which is what one set reading every part answers.
 */
class ContinuedScan implements PartScan {
  marked: boolean;
  private readonly rest: Parts;
  constructor(private readonly first: Parts) {
    this.marked = first.marked;
    this.rest = FLAG_PHRASES.begin();
  }
  more(part: string): void {
    this.rest.marked = this.marked;
    this.rest.more(part);
    this.marked = this.rest.marked;
  }
  may(re: RegExp): boolean {
    return this.first.may(re) || this.rest.may(re);
  }
}

/**
 * detectFlagsIn after the heuristics' scan of the description (`scan`, a set holding FLAG_REGEXES); `lowerDesc`, when
 * known, is the whole description lower-cased.
 */
export function detectFlagsAfter(
  tool: ToolInput,
  classification: Pick<Classification, "access" | "destructive">,
  scan: Parts,
  lowerDesc?: string,
): string[] {
  return detectFlagsIn(tool, classification, new ContinuedScan(scan), true, lowerDesc);
}

/** Detects annotation contradictions, poisoning indicators and shadowing in a tool definition. */
export function detectFlags(tool: ToolInput, classification: Pick<Classification, "access" | "destructive">): string[] {
  return detectFlagsIn(tool, classification, FLAG_PHRASES.begin(), false);
}

/**
 * detectFlags on a scan of a set that holds FLAG_REGEXES (case-folding); `descriptionRead` when the tool's whole
 * description is already its only part (the heuristics scanned it); `lowerDesc`, when the caller has it, the whole
 * description lower-cased.
 */
export function detectFlagsIn(
  tool: ToolInput,
  classification: Pick<Classification, "access" | "destructive">,
  scan: PartScan,
  descriptionRead: boolean,
  lowerDesc?: string,
): string[] {
  // Each flag is pushed at most once (the checks below are for distinct flags); an array, not a Set, per tool.
  const flags: string[] = [];
  const ann = tool.annotations && typeof tool.annotations === "object" ? tool.annotations : undefined;
  if (ann) {
    if (
      (ann.readOnlyHint === true && (classification.access !== "read" || classification.destructive)) ||
      (ann.destructiveHint === false && ann.readOnlyHint !== true && classification.destructive)
    )
      flags.push("annotation_contradiction");
  }
  const annTitle = typeof ann?.title === "string" ? ann.title : "";
  // The description alone first: shadowing is judged on it.
  if (!descriptionRead) scan.more(`${tool.description ?? ""}`);
  const shadowing = scan.may(SHADOW_WORDS) && scan.may(SHADOW);
  scan.more(`${tool.name ?? ""}`);
  scan.more(`${tool.title ?? ""}`);
  scan.more(annTitle);
  // Whether the texts and the schema prose hold a mark (INVISIBLE_MARKS), apart, so an invisible-character check
  // reads only the part that can hold one.
  const textMarked = scan.marked;
  scan.marked = false;
  if (tool.inputSchema !== undefined) schemaPieces(tool.inputSchema, scan);
  const schemaMarked = scan.marked;
  scan.marked = textMarked || schemaMarked;
  // Each check below runs only when the scan could not rule it out; the order of the flags is the order of the checks.
  // Every INVISIBLE match starts with a mark. One code point matches, so testing the parts one by one answers as
  // testing the whole raw text (below), whose parts are joined by line breaks.
  if (
    (textMarked &&
      (INVISIBLE.test(`${tool.name ?? ""}`) ||
        INVISIBLE.test(`${tool.title ?? ""}`) ||
        INVISIBLE.test(annTitle) ||
        INVISIBLE.test(`${tool.description ?? ""}`))) ||
    (schemaMarked && tool.inputSchema !== undefined && INVISIBLE.test(schemaText(tool.inputSchema)))
  )
    flags.push("poisoning:invisible_unicode");
  if (shadowing) {
    const desc = lowerDesc ?? (tool.description ?? "").toLowerCase();
    if (SHADOW_WORDS.test(desc) && SHADOW.test(desc)) flags.push("shadowing");
  }
  if (!scan.may(FLAG_TRIGGER_PUNCT) && !scan.may(FLAG_TRIGGER_WORDS)) return flags;
  // One lower-cased copy: case-insensitive regexes are markedly slower. Each regex below also runs only when the scan
  // saw one of its literals.
  const text =
    `${tool.name ?? ""}\n${tool.title ?? ""}\n${annTitle}\n${tool.description ?? ""}\n${tool.inputSchema === undefined ? "" : schemaText(tool.inputSchema)}`.toLowerCase();
  if (!FLAG_TRIGGER_PUNCT.test(text) && !FLAG_TRIGGER_WORDS.test(text)) return flags;
  if (
    (scan.may(HIDDEN_BLOCK) && has(text, ["<", "[inst", "[system"]) && HIDDEN_BLOCK.test(text)) ||
    (scan.may(DONT_TELL) && text.includes("user") && DONT_TELL.test(text))
  )
    flags.push("poisoning:hidden_instructions");
  if (scan.may(IGNORE) && has(text, IGNORE_GATE) && IGNORE.test(text)) flags.push("poisoning:ignore_instructions");
  const sensitiveFile = scan.may(SENSITIVE_FILE) && has(text, SENSITIVE_GATE) && SENSITIVE_FILE.test(text);
  if (sensitiveFile) flags.push("poisoning:sensitive_file");
  if (
    (sensitiveFile || (scan.may(STRONG_SECRET) && STRONG_SECRET.test(text))) &&
    has(text, ["param", "argument", "field", " arg"])
  ) {
    const m = scan.may(PASS_IN_PARAM) ? PASS_IN_PARAM.exec(text) : null;
    const around = m ? text.slice(Math.max(0, m.index - 120), m.index + m[0].length + 120) : "";
    if (m && (STRONG_SECRET.test(around) || (sensitiveFile && SECRET_OBJECT.test(around))))
      flags.push("poisoning:secret_in_parameter");
  }
  if (text.includes("http")) {
    const urls = text.match(URL) ?? [];
    if (
      urls.some((u) => EXFIL_HOSTS.test(u) || URL_TEMPLATE.test(u)) ||
      (scan.may(SEND_TO_URL) && SEND_TO_URL.test(text)) ||
      (scan.may(MD_IMAGE_DATA) && MD_IMAGE_DATA.test(text))
    )
      flags.push("poisoning:exfiltration_url");
  }
  return flags;
}
