/**
 * Text helpers for drift detection: bounded edit distance, a small line diff, poisoning indicators and
 * command/code parameter detection. Pure functions over untrusted strings; nothing here evaluates input.
 */

/** Indicators that a description carries instructions for the model rather than documentation for it. */
const INDICATORS: { id: string; label: string; re: RegExp }[] = [
  {
    id: "instruction-tag",
    label: "an <IMPORTANT>-style instruction block",
    re: /<\s*\/?\s*(important|system|instructions?|secret|hidden|admin|critical|note_to_ai|assistant)\b[^>]{0,200}>/i,
  },
  {
    id: "ignore-instructions",
    label: '"ignore previous instructions"',
    re: /\b(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(of\s+)?(the\s+|your\s+)?(previous|prior|above|earlier|preceding|other|system)\s+(instructions|rules|directions|prompts?|guidelines)/i,
  },
  {
    id: "sensitive-path",
    label: "a mention of secrets or credential files (~/.ssh, .env, credentials)",
    re: /(~\/\.ssh|\.ssh\/|\bid_rsa\b|\bid_ed25519\b|(^|[\s"'`(/])\.env\b|\bcredentials?\b|\.aws\/|\.npmrc\b|\.netrc\b|\bmcp\.json\b|\bprivate[_ ]key\b)/i,
  },
  {
    id: "hide-from-user",
    label: "an instruction to hide something from the user",
    re: /\b((do\s+not|don'?t|never)\s+(tell|mention|inform|show|reveal|notify|alert)\b.{0,30}\buser|without\s+(telling|informing|notifying|alerting)\s+the\s+user)/i,
  },
  {
    id: "tool-instruction",
    label: "instructions about using other tools",
    re: /\b((before|after|instead\s+of)\s+(using|calling|invoking)\s+(this|any|the\s+\w+)\s+tool|you\s+must\s+(first\s+|always\s+)?(call|read|send|pass|include|use|invoke))\b/i,
  },
  {
    id: "invisible-unicode",
    label: "invisible or direction-changing Unicode characters",
    re: /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u{E0000}-\u{E007F}]/u,
  },
];

const CLASSIFIER_FLAG_LABELS: Record<string, string> = {
  "poisoning:hidden_instructions": "hidden instructions",
  "poisoning:ignore_instructions": '"ignore previous instructions"',
  "poisoning:sensitive_file": "a mention of a sensitive file",
  "poisoning:secret_in_parameter": "a request to pass secrets in a parameter",
  "poisoning:invisible_unicode": "invisible Unicode characters",
  "poisoning:exfiltration_url": "a data-exfiltration URL",
  shadowing: "instructions that shadow other tools",
};

/** Human label for an indicator id (ours or `poisoning:*` flags from the classifier). */
export function indicatorLabel(id: string): string {
  return INDICATORS.find((i) => i.id === id)?.label ?? CLASSIFIER_FLAG_LABELS[id] ?? id;
}

/** Classifier flags that say the same as one of our indicators; kept out so a reason names each finding once. */
const COVERED_BY: Record<string, string[]> = {
  "poisoning:hidden_instructions": ["instruction-tag", "hide-from-user"],
  "poisoning:ignore_instructions": ["ignore-instructions"],
  "poisoning:sensitive_file": ["sensitive-path"],
  "poisoning:invisible_unicode": ["invisible-unicode"],
  shadowing: ["tool-instruction"],
};

/** Poisoning indicators present in a text, as stable ids: ours in a fixed order, then the classifier's extra ones. */
export function poisoningIndicators(text: string | null | undefined, extra?: (text: string) => string[]): string[] {
  if (!text) return [];
  const found = INDICATORS.filter((i) => i.re.test(text)).map((i) => i.id);
  const more = (extra ? extra(text) : []).filter((f) => !(COVERED_BY[f] ?? []).some((id) => found.includes(id))).sort();
  return [...new Set([...found, ...more])];
}

const CODE_NAME_TOKENS = new Set([
  "command",
  "commands",
  "cmd",
  "cmdline",
  "script",
  "scripts",
  "shell",
  "bash",
  "sql",
  "eval",
  "exec",
  "execute",
  "code",
  "snippet",
  "javascript",
  "python",
]);
const CODE_DESCRIPTION =
  /\b(shell\s+command|command\s+(line\s+)?to\s+(run|execute)|(code|script|program|expression)\s+to\s+(run|execute|evaluate|eval)|(sql|javascript|js|python|bash|shell|powershell)\s+(query|code|script|statement|command|snippet)|arbitrary\s+(code|commands?)|evaluate[sd]?\s+(the\s+)?(code|expression))\b/i;
// "country_code", "status_code" and friends name data, not code to run.
const DATA_CODE =
  /(country|status|error|zip|postal|currency|language|lang|region|area|promo|auth|verification|otp|color|colour|exit|response|http|iso|product|item|discount|coupon|airport|city|state|sku|access|invite|qr|bar|post)[_\-\s]?code/i;

/** Splits an identifier into lower-case words (snake, kebab, camel). */
export function nameTokens(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Why a parameter looks like it takes a command or code to run, or null. */
export function takesCode(name: string, description: string | undefined): string | null {
  if (!DATA_CODE.test(name)) {
    const hit = nameTokens(name).find((t) => CODE_NAME_TOKENS.has(t));
    if (hit) return `its name contains "${hit}"`;
  }
  const m = description ? CODE_DESCRIPTION.exec(description) : null;
  if (m && !(description && DATA_CODE.test(description) && !/\b(run|execute|evaluate)\b/i.test(description))) {
    return `its description says "${m[0]}"`;
  }
  return null;
}

/**
 * Levenshtein distance when it is at most `max`, else `max + 1`. Linear in the text length for small `max`, so a
 * 64 KB description costs microseconds, not a quadratic table.
 */
export function boundedEditDistance(a: string, b: string, max: number): number {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let ea = a.length;
  let eb = b.length;
  while (ea > start && eb > start && a[ea - 1] === b[eb - 1]) {
    ea--;
    eb--;
  }
  const s = a.slice(start, ea);
  const t = b.slice(start, eb);
  const n = s.length;
  const m = t.length;
  if (Math.abs(n - m) > max) return max + 1;
  if (n === 0 || m === 0) return Math.max(n, m);
  const big = max + 1;
  let prev = new Int32Array(m + 1).fill(big);
  let cur = new Int32Array(m + 1).fill(big);
  for (let j = 0; j <= Math.min(m, max); j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    cur.fill(big);
    cur[0] = i <= max ? i : big;
    const lo = Math.max(1, i - max);
    const hi = Math.min(m, i + max);
    let rowMin = cur[0]!;
    for (let j = lo; j <= hi; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost, big);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return big;
    [prev, cur] = [cur, prev];
  }
  return Math.min(prev[m]!, big);
}

const MEANING_WORDS = new Set([
  "not",
  "no",
  "never",
  "don't",
  "dont",
  "cannot",
  "can't",
  "without",
  "only",
  "readonly",
  "read-only",
  "all",
  "any",
  "delete",
  "remove",
  "write",
  "execute",
  "run",
]);

const words = (s: string) => s.toLowerCase().match(/[a-z0-9'-]+/g) ?? [];

/**
 * Whether an edit from `a` to `b` reads like a typo fix: a few characters, and no word that flips the meaning
 * (a negation, "only", a verb like delete) appears or disappears.
 */
export function isTypoFix(a: string, b: string): { typo: boolean; distance: number } {
  const limit = Math.min(8, Math.max(3, Math.floor(Math.max(a.length, b.length) * 0.02)));
  const distance = boundedEditDistance(a, b, limit);
  if (distance > limit) return { typo: false, distance };
  const wa = new Set(words(a));
  const wb = new Set(words(b));
  for (const w of MEANING_WORDS) if (wa.has(w) !== wb.has(w)) return { typo: false, distance };
  return { typo: true, distance };
}

/** Splits prose into diffable lines: newlines, and sentence ends inside long paragraphs. */
export function diffLines(text: string): string[] {
  return text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .flatMap((line) => (line.length > 100 ? line.split(/(?<=[.!?])\s+(?=\S)/) : [line]));
}

/**
 * A unified-style diff of two texts (" " same, "-" old, "+" new), unchanged runs cut to `context` lines each side.
 * Quadratic in lines, so very long texts fall back to "all old, all new".
 */
export function unifiedDiff(a: string, b: string, context = 2): string[] {
  const x = diffLines(a);
  const y = diffLines(b);
  let ops: string[];
  if (x.length * y.length > 250_000) {
    ops = [...x.map((l) => `-${l}`), ...y.map((l) => `+${l}`)];
  } else {
    const n = x.length;
    const m = y.length;
    const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    ops = [];
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[i] === y[j]) {
        ops.push(` ${x[i]}`);
        i++;
        j++;
      } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
        ops.push(`+${y[j]}`);
        j++;
      } else {
        ops.push(`-${x[i]}`);
        i++;
      }
    }
  }
  const keep = ops.map((op, k) => {
    if (op[0] !== " ") return true;
    for (let d = 1; d <= context; d++) {
      if (ops[k - d]?.[0] === "-" || ops[k - d]?.[0] === "+") return true;
      if (ops[k + d]?.[0] === "-" || ops[k + d]?.[0] === "+") return true;
    }
    return false;
  });
  const out: string[] = [];
  for (let k = 0; k < ops.length; k++) {
    if (keep[k]) out.push(ops[k]!);
    else if (keep[k - 1] !== false || k === 0) out.push(" …");
  }
  return out;
}

/** Makes untrusted text safe for a terminal (one helper for all CLI output: core/terminal.ts). */
export { forTerminal } from "../core/terminal.js";
