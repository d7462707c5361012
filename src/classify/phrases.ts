/**
 * Phrase rules run only where they can match. A description is read once by one multi-pattern scan (Aho–Corasick)
 * for every literal that some phrase regex cannot match without; a regex then runs only if one of its literals
 * occurred. Most descriptions hold none of them, so most regexes never run, and those that do give exactly the answer
 * they would have given alone: the literals are derived from each regex's source (see requiredLiterals), never
 * written by hand, so a rule's wording can change freely. A regex the set was not built with, or whose source the
 * derivation cannot read, simply always runs.
 */

/** A literal every match of a regex contains (one of the listed), or null when the derivation cannot tell. */
export type Literals = string[] | null;

type Node =
  | { k: "char"; c: string }
  | { k: "set"; chars: string[] | null }
  | { k: "zero" }
  | { k: "rep"; node: Node; min: number; max: number }
  | { k: "alt"; opts: Node[] }
  | { k: "seq"; items: Node[] };

const SIMPLE_ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", f: "\f", v: "\v", "0": "\0" };

/** A small parser for the regex features the rules use; anything it does not know becomes "any character". */
function parse(src: string): Node {
  let i = 0;
  const escaped = (inClass: boolean): Node => {
    const c = src[i++];
    if (c === undefined) return { k: "set", chars: null };
    if (!inClass && (c === "b" || c === "B")) return { k: "zero" };
    if (SIMPLE_ESCAPES[c] !== undefined) return { k: "char", c: SIMPLE_ESCAPES[c]! };
    if (c === "x" && /^[0-9a-fA-F]{2}$/.test(src.slice(i, i + 2))) {
      i += 2;
      return { k: "char", c: String.fromCharCode(Number.parseInt(src.slice(i - 2, i), 16)) };
    }
    if (c === "u" && /^[0-9a-fA-F]{4}$/.test(src.slice(i, i + 4))) {
      i += 4;
      return { k: "char", c: String.fromCharCode(Number.parseInt(src.slice(i - 4, i), 16)) };
    }
    if (/[A-Za-z0-9]/.test(c)) {
      // \d \w \s \p{…} \k<…> \1 \c…: not a literal; skip a braced or bracketed argument.
      if ((c === "p" || c === "P" || c === "u") && src[i] === "{") i = src.indexOf("}", i) + 1 || src.length;
      if (c === "k" && src[i] === "<") i = src.indexOf(">", i) + 1 || src.length;
      return { k: "set", chars: null };
    }
    return { k: "char", c };
  };
  const charClass = (): Node => {
    const negated = src[i] === "^";
    if (negated) i++;
    const chars: string[] = [];
    let known = !negated;
    const item = (): string | undefined => {
      const c = src[i++]!;
      if (c !== "\\") return c;
      const e = escaped(true);
      return e.k === "char" ? e.c : undefined;
    };
    while (i < src.length && src[i] !== "]") {
      const c = item();
      if (src[i] === "-" && i + 1 < src.length && src[i + 1] !== "]") {
        // A range: not expanded.
        i++;
        item();
        known = false;
        continue;
      }
      if (c === undefined) known = false;
      else chars.push(c);
    }
    i++; // ]
    return { k: "set", chars: known && chars.length > 0 && chars.length <= 6 ? chars : null };
  };
  const atom = (): Node | undefined => {
    const c = src[i];
    if (c === undefined || c === "|" || c === ")") return undefined;
    i++;
    if (c === "\\") return escaped(false);
    if (c === "[") return charClass();
    if (c === ".") return { k: "set", chars: null };
    if (c === "^" || c === "$") return { k: "zero" };
    if (c === "(") {
      let look = false;
      if (src[i] === "?") {
        if (src[i + 1] === ":") i += 2;
        else if (src[i + 1] === "=" || src[i + 1] === "!") {
          i += 2;
          look = true;
        } else if (src[i + 1] === "<" && (src[i + 2] === "=" || src[i + 2] === "!")) {
          i += 3;
          look = true;
        } else if (src[i + 1] === "<") i = src.indexOf(">", i) + 1;
      }
      const inner = alternation();
      i++; // )
      return look ? { k: "zero" } : inner;
    }
    return { k: "char", c };
  };
  const quantified = (): Node | undefined => {
    let node = atom();
    if (!node) return undefined;
    for (;;) {
      const q = src[i];
      let min = -1;
      let max = Number.POSITIVE_INFINITY;
      if (q === "?") {
        min = 0;
        max = 1;
      } else if (q === "*") min = 0;
      else if (q === "+") min = 1;
      else if (q === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
        if (!m) break;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] ? Number(m[3]) : Number.POSITIVE_INFINITY;
        i += m[0].length - 1;
      }
      if (min < 0) break;
      i++;
      if (src[i] === "?") i++; // lazy
      node = { k: "rep", node, min, max };
    }
    return node;
  };
  const sequence = (): Node => {
    const items: Node[] = [];
    for (let n = quantified(); n; n = quantified()) items.push(n);
    return { k: "seq", items };
  };
  function alternation(): Node {
    const opts = [sequence()];
    while (src[i] === "|") {
      i++;
      opts.push(sequence());
    }
    return opts.length === 1 ? opts[0]! : { k: "alt", opts };
  }
  const root = alternation();
  return i >= src.length ? root : { k: "set", chars: null };
}

/** Better gates have longer literals (rarer), then fewer of them. */
function better(a: string[], b: string[] | null): boolean {
  if (!b) return true;
  const ma = Math.min(...a.map((x) => x.length));
  const mb = Math.min(...b.map((x) => x.length));
  return ma > mb || (ma === mb && a.length < b.length);
}

const MAX_LANGUAGE = 48;

/**
 * Every string `n` can match, when that is a small finite set; null otherwise. Zero-width assertions (\b, ^, $,
 * lookarounds) match the empty string here: dropping a condition only lets the gate pass more often, never less.
 */
function language(n: Node): string[] | null {
  switch (n.k) {
    case "char":
      return [n.c];
    case "set":
      return n.chars;
    case "zero":
      return [""];
    case "rep": {
      if (n.max > 1) return null;
      const inner = language(n.node);
      if (!inner) return null;
      return n.min === 0 ? ["", ...inner] : inner;
    }
    case "alt": {
      const out = new Set<string>();
      for (const o of n.opts) {
        const l = language(o);
        if (!l) return null;
        for (const x of l) out.add(x);
      }
      return out.size <= MAX_LANGUAGE ? [...out] : null;
    }
    case "seq": {
      let acc = [""];
      for (const item of n.items) {
        const l = language(item);
        if (!l) return null;
        acc = cross(acc, l);
        if (acc.length > MAX_LANGUAGE) return null;
      }
      return acc;
    }
  }
}

function cross(a: string[], b: string[]): string[] {
  const out = new Set<string>();
  for (const x of a) for (const y of b) out.add(x + y);
  return [...out];
}

function required(n: Node): Literals {
  const whole = language(n);
  if (whole && !whole.includes("")) {
    // A node with a small finite language: its strings themselves (or a better literal inside, for a sequence).
    if (n.k !== "seq") return whole;
  }
  switch (n.k) {
    case "char":
    case "set":
      return language(n);
    case "zero":
      return null;
    case "rep":
      return n.min >= 1 ? required(n.node) : null;
    case "alt": {
      const out: string[] = [];
      for (const o of n.opts) {
        const r = required(o);
        if (!r) return null;
        out.push(...r);
      }
      return [...new Set(out)];
    }
    case "seq": {
      // Candidates: every window of consecutive items with a small finite language (their strings, all non-empty),
      // and every item's own required literals. Any one candidate is a valid gate; the best is kept.
      let best: string[] | null = null;
      const items = n.items;
      for (let a = 0; a < items.length; a++) {
        let acc: string[] | null = [""];
        for (let b = a; b < items.length && acc; b++) {
          const l = language(items[b]!);
          if (!l) break;
          acc = cross(acc, l);
          if (acc.length > MAX_LANGUAGE) break;
          if (!acc.includes("") && better(acc, best)) best = acc;
        }
        const r = required(items[a]!);
        if (r && better(r, best)) best = r;
      }
      return best;
    }
  }
}

/**
 * Literals one of which every match of `re` contains, derived from its source; null when none can be derived (or
 * the regex keeps state between calls: global or sticky). With the `i` flag they are lower-cased, for lower-cased text.
 */
export function requiredLiterals(re: RegExp): Literals {
  if (re.global || re.sticky) return null;
  const lits = required(parse(re.source));
  if (!lits || lits.length === 0 || lits.some((l) => l.length === 0)) return null;
  return re.ignoreCase ? [...new Set(lits.map((l) => l.toLowerCase()))] : lits;
}

/**
 * The regexes a text is checked against, with one Aho–Corasick automaton over all their literals. `scan(text)`
 * reads a text once; `test`/`exec` then answer exactly as `re.test(text)`/`re.exec(text)`.
 */
export class PhraseSet {
  /** Each gated regex's index; the automaton reports regexes, not literals. */
  private readonly gates = new Map<RegExp, number>();
  private readonly spansLines = new Set<RegExp>();
  private readonly width: number;
  private readonly classOf: Uint16Array;
  private readonly delta: Int32Array;
  private readonly outStart: Int32Array;
  private readonly outIds: Int32Array;
  private readonly stamp: Uint32Array;
  private readonly endAt: Int32Array;
  /** Every scan reports `marked` (no marks given, or a mark is also a literal's character). */
  private readonly alwaysMarked: boolean;
  private gen = 0;
  /** How many regexes were run without a gate (not registered, or no literal derivable): for tests. */
  ungated = 0;

  /**
   * With `foldCase`, the scan reads text as if lower-cased (ASCII letters, and the two other characters whose lower
   * case is ASCII: U+212A KELVIN SIGN and U+0130), so raw text can be scanned without lower-casing it first; it then
   * answers only may/mayAny (a regex still has to run on the lower-cased text).
   *
   * `marks`: code units whose occurrence a scan reports (`marked`), at no cost per character: each is a character class
   * of its own whose every transition ends at the root flagged as an output, so only a mark leaves the common step.
   * Without marks every scan reports marked.
   */
  constructor(regexes: readonly RegExp[], foldCase = false, marks = "") {
    const ids = new Map<string, number>();
    const regexesOf: number[][] = [];
    for (const re of regexes) {
      const lits = requiredLiterals(re);
      if (!lits) continue;
      // A case-folding scan reads raw text: only ASCII literals are sure to appear there as they do lower-cased.
      if (foldCase && lits.some((l) => /[^\x00-\x7f]/.test(l))) continue;
      if (lits.some((l) => l.includes("\n") || l.includes("\r"))) this.spansLines.add(re);
      const index = this.gates.size;
      this.gates.set(re, index);
      for (const l of lits) {
        let id = ids.get(l);
        if (id === undefined) {
          id = ids.size;
          ids.set(l, id);
          regexesOf.push([]);
        }
        regexesOf[id]!.push(index);
      }
    }
    const literals = [...ids.keys()];
    // Alphabet: the characters the literals use; every other character is class 0.
    this.classOf = new Uint16Array(65536);
    let width = 1;
    for (const l of literals)
      for (const ch of l) if (this.classOf[ch.charCodeAt(0)] === 0) this.classOf[ch.charCodeAt(0)] = width++;
    // The marks' class: a column of its own, filled in below.
    let markClass = 0;
    let alwaysMarked = marks.length === 0;
    if (marks.length > 0) {
      markClass = width++;
      for (const ch of marks) {
        const u = ch.charCodeAt(0);
        if (this.classOf[u] === 0) this.classOf[u] = markClass;
        else if (this.classOf[u] !== markClass) alwaysMarked = true;
      }
    }
    this.alwaysMarked = alwaysMarked;
    this.width = width;
    if (foldCase) {
      for (let c = 65; c <= 90; c++) this.classOf[c] = this.classOf[c + 32]!;
      this.classOf[0x212a] = this.classOf[107]!; // KELVIN SIGN → k
      this.classOf[0x130] = this.classOf[105]!; // İ → i̇
    }
    // Trie.
    const next: Array<Map<number, number>> = [new Map()];
    const out: number[][] = [[]];
    literals.forEach((l, id) => {
      let s = 0;
      for (let j = 0; j < l.length; j++) {
        const k = this.classOf[l.charCodeAt(j)]!;
        let t = next[s]!.get(k);
        if (t === undefined) {
          t = next.length;
          next.push(new Map());
          out.push([]);
          next[s]!.set(k, t);
        }
        s = t;
      }
      out[s]!.push(...regexesOf[id]!);
    });
    // Failure links, breadth first, folded into a dense transition table.
    const n = next.length;
    const delta = new Int32Array(n * width);
    const fail = new Int32Array(n);
    const queue: number[] = [];
    for (let k = 0; k < width; k++) {
      const t = next[0]!.get(k) ?? 0;
      delta[k] = t;
      if (t) queue.push(t);
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      out[s] = [...new Set([...out[s]!, ...out[fail[s]!]!])];
      for (let k = 0; k < width; k++) {
        const t = next[s]!.get(k);
        if (t === undefined) delta[s * width + k] = delta[fail[s]! * width + k]!;
        else {
          fail[t] = delta[fail[s]! * width + k]!;
          delta[s * width + k] = t;
          queue.push(t);
        }
      }
    }
    // States renumbered breadth first: text mostly walks the shallow states, whose rows then lie together in memory
    // (the table is about a megabyte; in trie order a common step was a cache miss).
    const rank = new Int32Array(n);
    const order = [0, ...queue];
    order.forEach((old, i) => {
      rank[old] = i;
    });
    const table = new Int32Array(n * width);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < width; k++) table[i * width + k] = rank[delta[order[i]! * width + k]!]!;
    this.outStart = new Int32Array(n + 1);
    const flat: number[] = [];
    for (let i = 0; i < n; i++) {
      this.outStart[i] = flat.length;
      flat.push(...out[order[i]!]!);
    }
    this.outStart[n] = flat.length;
    // The scan's table: the next state's row offset (state × width), bit-inverted when that state ends a literal, so
    // the common step is two array reads and a sign test.
    for (let j = 0; j < table.length; j++) {
      const t = table[j]!;
      table[j] = this.outStart[t] !== this.outStart[t + 1] ? ~(t * width) : t * width;
    }
    // A mark goes to the root (no literal holds it) flagged: ~0, the only flagged entry that leads to the root (the
    // root ends no literal).
    if (markClass > 0) for (let i = 0; i < n; i++) table[i * width + markClass] = ~0;
    this.delta = table;
    this.outIds = Int32Array.from(flat);
    this.stamp = new Uint32Array(this.gates.size);
    this.endAt = new Int32Array(this.gates.size);
  }

  /**
   * Reads `text` once and records, for each regex, where the first occurrence of one of its literals ends. The result
   * is valid until the next scan of this set.
   */
  scan(text: string): Scan {
    const gen = ++this.gen;
    this.read(text, gen, false);
    return new Scan(this, text, gen, text.length);
  }

  /**
   * Starts a scan over several texts (parts joined by line breaks, where no literal spans two parts): `more(part)`
   * adds a part; `may(re)` says whether a literal of `re` occurred in any part so far.
   */
  begin(): Parts {
    return new Parts(this, ++this.gen);
  }

  /**
   * Reads `text` into scan `gen` as if it started at `offset`; returns whether a mark occurred in it or `marked`.
   */
  read(text: string, gen: number, marked: boolean, offset = 0): boolean {
    if (gen !== this.gen) throw new Error("PhraseSet: scan used after the next scan of the same set");
    const { delta, classOf, outStart, outIds, stamp, endAt, width } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const v = delta[s + classOf[text.charCodeAt(i)]!]!;
      if (v >= 0) {
        s = v;
        continue;
      }
      s = ~v;
      if (s === 0) {
        marked = true;
        continue;
      }
      const state = (s / width) | 0;
      const e = outStart[state + 1]!;
      for (let j = outStart[state]!; j < e; j++) {
        const id = outIds[j]!;
        if (stamp[id] !== gen) {
          stamp[id] = gen;
          endAt[id] = offset + i + 1;
        }
      }
    }
    return marked || this.alwaysMarked;
  }

  /** As mayMatch over every part of a multi-part scan; a regex with a literal that spans lines always may. */
  mayMatchParts(re: RegExp, gen: number): boolean {
    if (this.spansLines.size > 0 && this.spansLines.has(re)) return true;
    return this.mayMatch(re, gen, Number.MAX_SAFE_INTEGER) !== false;
  }

  /** A scan that gates nothing: every regex runs (for a text this set did not read). */
  plain(text: string): Scan {
    return new Scan(undefined, text, 0, text.length);
  }

  /** Whether one of `re`'s literals ended at or before `limit` in the scan `gen`; undefined when `re` has no gate. */
  mayMatch(re: RegExp, gen: number, limit: number): boolean | undefined {
    const index = this.gates.get(re);
    if (index === undefined) {
      this.ungated++;
      return undefined;
    }
    if (gen !== this.gen) throw new Error("PhraseSet: scan used after the next scan of the same set");
    return this.stamp[index] === gen && this.endAt[index]! <= limit;
  }
}

/** One scanned text (or a prefix of it): answers regex questions about it, running a regex only when it can match. */
export class Scan {
  constructor(
    private readonly set: PhraseSet | undefined,
    readonly text: string,
    private readonly gen: number,
    private readonly limit: number,
  ) {}

  /**
   * The same scan for a prefix of the scanned text (a literal is in the prefix when its first occurrence ends inside
   * it); for any other text, a scan that gates nothing.
   */
  sub(text: string): Scan {
    if (!this.set || !this.text.startsWith(text)) return new Scan(undefined, text, 0, text.length);
    return new Scan(this.set, text, this.gen, text.length);
  }

  /** As sub(text) for a `text` the caller knows to be a prefix of the scanned text (sub without the comparison). */
  prefix(text: string): Scan {
    if (!this.set) return new Scan(undefined, text, 0, text.length);
    return new Scan(this.set, text, this.gen, text.length);
  }

  /** False when `re` cannot match this text; true when it may. */
  may(re: RegExp): boolean {
    return this.set?.mayMatch(re, this.gen, this.limit) !== false;
  }

  test(re: RegExp): boolean {
    return this.set?.mayMatch(re, this.gen, this.limit) === false ? false : re.test(this.text);
  }

  exec(re: RegExp): RegExpExecArray | null {
    return this.set?.mayMatch(re, this.gen, this.limit) === false ? null : re.exec(this.text);
  }
}

/** A scan over several parts of one text (see PhraseSet.begin). */
export class Parts {
  /** Whether a mark of the set (see PhraseSet) occurred in the parts so far. */
  marked = false;
  /** Where the next part starts: the parts so far, each followed by a line break. */
  private length = 0;
  constructor(
    private readonly set: PhraseSet,
    private readonly gen: number,
  ) {}

  more(part: string): void {
    this.marked = this.set.read(part, this.gen, this.marked, this.length);
    this.length += part.length + 1;
  }

  /**
   * Questions about `text`, which must be (a lower-cased copy of the same length of) the start of the first part, up
   * to `limit`: a regex runs only when one of its literals occurred there.
   */
  view(text: string, limit: number): Scan {
    return new Scan(this.set, text, this.gen, limit);
  }

  /** False when no literal of `re` occurred in any part (so `re` cannot match their line-joined text). */
  may(re: RegExp): boolean {
    return this.set.mayMatchParts(re, this.gen);
  }
}
