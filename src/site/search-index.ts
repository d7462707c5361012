import type { ServerSummary } from "./server-pages.js";

/**
 * A search index sharded by token prefix, so a browser fetches one or two small JSON files per query however big
 * the catalog is. Each shard holds its own table of the documents its tokens point to: no second fetch per result.
 *
 * Document: [kind (0 tool, 1 server), name, server slug, tool slug or "", risk or ""].
 */
/** The list stored under a key, created empty when missing. */
function bucket<K, V>(m: Map<K, V[]>, k: K): V[] {
  let l = m.get(k);
  if (!l) {
    l = [];
    m.set(k, l);
  }
  return l;
}

export type SearchDoc = [0 | 1, string, string, string, string];

export interface SearchShard {
  key: string;
  docs: SearchDoc[];
  /** token → indexes into docs */
  tokens: Record<string, number[]>;
  /** tokens whose postings were cut at maxPostings */
  capped: string[];
}

export interface SearchIndexOpts {
  /** Split a shard further when its JSON would exceed this many bytes (estimate). */
  maxShardBytes?: number;
  /** Most documents kept for one token (very common words like "get" are cut, ranked by name length). */
  maxPostings?: number;
}

/** The tokens of a name: lower-cased ASCII words split on punctuation and camelCase. Mirrors assets/search.js. */
export function tokenize(s: string): string[] {
  const words = s
    .normalize("NFKD")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return [...new Set(words.filter((w) => w.length >= 2))].slice(0, 16);
}

const docBytes = (d: SearchDoc) => d[1].length + d[2].length + d[3].length + d[4].length + 20;

/** Builds all shards from the server summaries (sorted, so the output is deterministic). */
export function buildSearchIndex(
  servers: ServerSummary[],
  opts: SearchIndexOpts = {},
): { shards: SearchShard[]; manifest: { v: 1; shards: string[]; docs: number } } {
  const maxBytes = opts.maxShardBytes ?? 160_000;
  const maxPostings = opts.maxPostings ?? 1500;
  const docs: SearchDoc[] = [];
  const postings = new Map<string, number[]>();
  const post = (tok: string, id: number) => {
    const l = bucket(postings, tok);
    if (l[l.length - 1] !== id) l.push(id);
  };
  for (const s of servers) {
    const sid = docs.push([1, s.title || s.name, s.slug, "", ""]) - 1;
    for (const tok of tokenize(`${s.name} ${s.title ?? ""}`)) post(tok, sid);
    for (const t of s.tools) {
      const id = docs.push([0, t.n, s.slug, t.s, t.r ?? ""]) - 1;
      for (const tok of tokenize(`${t.n} ${t.title ?? ""}`)) post(tok, id);
    }
  }
  const rank = (a: number, b: number) => {
    const da = docs[a]!;
    const db = docs[b]!;
    return db[0] - da[0] || da[1].length - db[1].length || (da[1] < db[1] ? -1 : da[1] > db[1] ? 1 : a - b);
  };
  const capped = new Set<string>();
  const sizes = new Map<string, number>();
  for (const [tok, ids] of postings) {
    if (ids.length > maxPostings) {
      ids.sort(rank);
      ids.length = maxPostings;
      capped.add(tok);
    }
    let bytes = tok.length + 8;
    for (const id of ids) bytes += docBytes(docs[id]!) + 8;
    sizes.set(tok, bytes);
  }
  // Group tokens by prefix, splitting a group one character deeper while it is too big.
  const tokens = [...postings.keys()].sort();
  const groups: { key: string; toks: string[] }[] = [];
  const split = (key: string, toks: string[]) => {
    const total = toks.reduce((n, t) => n + (sizes.get(t) ?? 0), 0);
    const deeper = toks.filter((t) => t.length > key.length);
    if (total <= maxBytes || deeper.length === 0) {
      groups.push({ key, toks });
      return;
    }
    // Tokens equal to the prefix itself get a shard of their own, marked by a trailing "-" (never in a token).
    const exact = toks.filter((t) => t.length === key.length);
    if (exact.length) groups.push({ key: `${key}-`, toks: exact });
    const by = new Map<string, string[]>();
    for (const t of deeper) {
      const k = t.slice(0, key.length + 1);
      const l = bucket(by, k);
      l.push(t);
    }
    for (const [k, l] of [...by].sort((a, b) => (a[0] < b[0] ? -1 : 1))) split(k, l);
  };
  const first = new Map<string, string[]>();
  for (const t of tokens) {
    const k = t.slice(0, 2);
    const l = bucket(first, k);
    l.push(t);
  }
  for (const [k, l] of first) split(k, l);
  groups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const shards: SearchShard[] = groups.map((g) => {
    const local = new Map<number, number>();
    const sdocs: SearchDoc[] = [];
    const stoks: Record<string, number[]> = {};
    for (const t of g.toks) {
      stoks[t] = postings.get(t)!.map((id) => {
        let li = local.get(id);
        if (li === undefined) {
          li = sdocs.push(docs[id]!) - 1;
          local.set(id, li);
        }
        return li;
      });
    }
    return { key: g.key, docs: sdocs, tokens: stoks, capped: g.toks.filter((t) => capped.has(t)) };
  });
  return { shards, manifest: { v: 1, shards: shards.map((s) => s.key), docs: docs.length } };
}
