import { readFileSync } from "node:fs";
import { runInNewContext } from "node:vm";
import { isPoisoningFlag } from "../core/vocabulary.js";
import type { SiteState } from "../store/site-state.js";
import type { ServerMeta, ToolSummary } from "./server-pages.js";

/**
 * A search index sharded by token prefix, so a browser fetches one or two small JSON files per query however big
 * the catalog is. Each shard holds its own table of the documents its tokens point to: no second fetch per result.
 * Postings live in the build state, so a change to one server rebuilds only the shards of its tokens.
 *
 * What is indexed: names and titles (servers and tools), the first content words of descriptions, and "flagged" for
 * tools with poisoning flags. Category and risk are not postings (every tool has one: the lists would be huge);
 * the browser filters by them from the document, and a query that is only a category or risk opens its listing.
 *
 * Document: [kind (0 tool, 1 server), name, server slug, tool slug or "", risk or "", category or "", title or "",
 * snippet of the description, 1 when flagged else 0].
 * Shard key: a token prefix (all tokens starting with it), or `<token>-` (exactly that token).
 */
export type SearchDoc = [0 | 1, string, string, string, string, string, string, string, 0 | 1];

export interface SearchShard {
  key: string;
  docs: SearchDoc[];
  /** token → indexes into docs */
  tokens: Record<string, number[]>;
  /** tokens whose postings were cut at maxPostings */
  capped: string[];
}

export interface SearchIndexOpts {
  /** Split a shard further when its documents exceed this many bytes. */
  maxShardBytes?: number;
  /** Most documents kept for one token (very common words like "get" are cut, ranked by name length). */
  maxPostings?: number;
  /**
   * A full build that renders in worker threads builds its shards in a thread of their own, alongside the global
   * pages, when there are at least this many (default 64).
   */
  threadMinShards?: number;
}

interface Words {
  terms(s: string, dropStop?: boolean): string[];
  stem(w: string): string;
}

/** The browser's own tokeniser (assets/search-words.js), run here so the index and the queries agree exactly. */
const WORDS: Words = (() => {
  const box: { McpCensusWords?: Words } = {};
  runInNewContext(readFileSync(new URL("./assets/search-words.js", import.meta.url), "utf8"), box);
  if (!box.McpCensusWords) throw new Error("assets/search-words.js did not define McpCensusWords");
  return box.McpCensusWords;
})();

/** The index terms of a name or title: folded, split on punctuation and camelCase, stemmed. */
export function tokenize(s: string): string[] {
  return WORDS.terms(s).slice(0, 16);
}

/** Content words of a description indexed per tool (the first ones: descriptions lead with what the tool does). */
const DESCRIPTION_TERMS = 8;
/** Characters of description shown under a result. */
const SNIPPET = 90;

/**
 * A server's search entries: its documents (JSON, the server first, then its tools) and the postings pointing at them
 * by index. A document is stored once however many of its tokens are indexed (it used to be copied into every
 * posting: about 20 copies of 200 bytes per tool in the build state).
 */
export interface ServerSearch {
  docs: string[];
  postings: [token: string, rank: string, doc: number][];
}

/**
 * Sort key of a document within a token: servers first, then shorter names, then by name and slugs. Stored beside
 * each posting so a shard takes the best `maxPostings` documents of a very common token without reading the rest.
 */
export function rankKey(d: SearchDoc): string {
  return `${d[0] === 1 ? 0 : 1}${String(Math.min(d[1].length, 9999)).padStart(4, "0")}${d[1]}\u0001${d[2]}\u0001${d[3]}`;
}

const snippet = (s: string | null | undefined) => {
  const t = (s ?? "").replace(/\s+/g, " ").trim();
  return t.length > SNIPPET ? `${t.slice(0, SNIPPET).trimEnd()}…` : t;
};

/**
 * Terms of texts seen before, kept (at most MEMO_TEXTS of each kind, then started afresh): tool names, titles and
 * short descriptions repeat across servers, and tokenising was ~9 % of the main thread's work in a full build.
 * The arrays are shared: never changed by their users.
 */
const MEMO_TEXTS = 100_000;
const nameTerms = new Map<string, readonly string[]>();
const descriptionTerms = new Map<string, readonly string[]>();
function memoTerms(memo: Map<string, readonly string[]>, text: string, description: boolean): readonly string[] {
  let t = memo.get(text);
  if (t === undefined) {
    t = description ? WORDS.terms(text, true) : tokenize(text);
    if (memo.size >= MEMO_TEXTS) memo.clear();
    memo.set(text, t);
  }
  return t;
}

function push(out: ServerSearch, d: SearchDoc, nameText: string, description: string): void {
  const doc = out.docs.push(JSON.stringify(d)) - 1;
  const rank = rankKey(d);
  const name = memoTerms(nameTerms, nameText, false);
  for (const tok of name) out.postings.push([tok, rank, doc]);
  let n = 0;
  for (const tok of memoTerms(descriptionTerms, description, true)) {
    if (n >= DESCRIPTION_TERMS) break;
    if (name.includes(tok)) continue;
    out.postings.push([tok, rank, doc]);
    n++;
  }
  if (d[8] === 1) out.postings.push(["flagged", rank, doc]);
}

/** The search documents and postings of one server and its tools. */
export function serverPostings(meta: ServerMeta, tools: ToolSummary[]): ServerSearch {
  const out: ServerSearch = { docs: [], postings: [] };
  push(
    out,
    [1, meta.title || meta.name, meta.slug, "", "", "", meta.title ? meta.name : "", snippet(meta.d), 0],
    `${meta.name} ${meta.title ?? ""}`,
    meta.d,
  );
  for (const t of tools) {
    const flagged = t.f?.some(isPoisoningFlag) ? 1 : 0;
    push(
      out,
      [0, t.n, meta.slug, t.s, t.r ?? "", t.c ?? "", t.title ?? "", snippet(t.d), flagged],
      `${t.n} ${t.title ?? ""}`,
      t.d,
    );
  }
  return out;
}

/** Groups tokens into shard keys by prefix, one character deeper while a group is too big. */
export function planShards(sizes: { token: string; bytes: number }[], maxBytes: number, minLen = 2): string[] {
  const keys: string[] = [];
  const size = new Map(sizes.map((s) => [s.token, s.bytes]));
  const split = (key: string, toks: string[]) => {
    const total = toks.reduce((n, t) => n + (size.get(t) ?? 0), 0);
    const deeper = toks.filter((t) => t.length > key.length);
    if (total <= maxBytes || deeper.length === 0) {
      keys.push(toks.length === 1 && toks[0] === key && key.length >= minLen ? `${key}-` : key);
      return;
    }
    if (toks.some((t) => t.length === key.length)) keys.push(`${key}-`);
    const by = new Map<string, string[]>();
    for (const t of deeper) {
      const k = t.slice(0, key.length + 1);
      const l = by.get(k) ?? [];
      if (!l.length) by.set(k, l);
      l.push(t);
    }
    for (const [k, l] of [...by].sort((a, b) => (a[0] < b[0] ? -1 : 1))) split(k, l);
  };
  const first = new Map<string, string[]>();
  for (const { token } of [...sizes].sort((a, b) => (a.token < b.token ? -1 : 1))) {
    const k = token.slice(0, minLen);
    const l = first.get(k) ?? [];
    if (!l.length) first.set(k, l);
    l.push(token);
  }
  for (const [k, l] of first) split(k, l);
  return keys.sort();
}

/** The key range [from, to) of tokens a shard key covers. */
export function keyRange(key: string): [string, string] {
  return key.endsWith("-") ? [key.slice(0, -1), `${key.slice(0, -1)}\u0000`] : [key, `${key}\uffff`];
}

/** The shard key that holds a token, given the current keys (undefined when none does yet). */
export function shardFor(token: string, keys: Set<string>): string | undefined {
  if (keys.has(`${token}-`)) return `${token}-`;
  for (let l = token.length; l >= 1; l--) if (keys.has(token.slice(0, l))) return token.slice(0, l);
  return undefined;
}

/** A new key for a token no shard covers: its shortest prefix that no existing key starts with. */
export function newKeyFor(token: string, keys: Set<string>, minLen = 2): string {
  const all = [...keys].map((k) => k.replace(/-$/, ""));
  for (let l = Math.min(minLen, token.length); l <= token.length; l++) {
    const p = token.slice(0, l);
    if (!all.some((k) => k.startsWith(p))) return p;
  }
  return `${token}-`;
}

/** One shard's content from the stored postings: documents deduplicated, ranked, common tokens capped. */
export function buildShard(state: Pick<SiteState, "rankedPostingsIn">, key: string, maxPostings: number): SearchShard {
  const [from, to] = keyRange(key);
  const docs: SearchDoc[] = [];
  const local = new Map<string, number>();
  const tokens: Record<string, number[]> = {};
  const capped: string[] = [];
  for (const t of state.rankedPostingsIn(from, to, maxPostings)) {
    if (t.capped) capped.push(t.token);
    const list: number[] = [];
    tokens[t.token] = list;
    for (const doc of t.docs) {
      let i = local.get(doc);
      if (i === undefined) {
        i = docs.push(JSON.parse(doc) as SearchDoc) - 1;
        local.set(doc, i);
      }
      list.push(i);
    }
  }
  return { key, docs, tokens, capped };
}
