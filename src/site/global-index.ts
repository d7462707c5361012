import { endianness } from "node:os";
import { fpOf, Hash64, type SegList } from "./global-pages.js";
import type { ServerMeta } from "./server-pages.js";

/**
 * What the global pages (listings, totals, sitemaps, llms-full) need of one server to plan their pages: its place in
 * name order, the fingerprints its rows are keyed by, and its counts. The rows themselves (names, descriptions) are
 * read only for the pages that are rendered.
 */
export interface IndexRow
  extends Pick<ServerMeta, "id" | "slug" | "toolCount" | "modify" | "outcome" | "byCategory" | "byRisk" | "sources"> {
  flagged: number;
  /** The name shown, case- and accent-folded: listings say "by name". */
  key: string;
  /** What the server shows on global pages (its summary and tool summaries). */
  sfp: readonly [number, number];
  /** Its page URLs (its slug and its tools' slugs): what the sitemaps show of it. */
  ufp: readonly [number, number];
  /** What llms-full.txt shows of it (names, counts, slug). */
  lfp: readonly [number, number];
}

/** Listings say "by name": the name shown (title, else registry name), case- and accent-folded. */
export function displayKey(m: Pick<ServerMeta, "title" | "name">): string {
  const s = m.title || m.name;
  // Plain ASCII has nothing to decompose or strip (most names): skip the Unicode passes.
  if (ASCII.test(s)) return s.toLowerCase();
  return s
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
}
const ASCII = /^[\x00-\x7f]*$/;

/** A server's index row from its summary and the fingerprints the manifest keeps for it. */
export function rowOf(meta: ServerMeta, sfp: string, ufp: string): IndexRow {
  const l = new Hash64()
    .str(meta.title || "")
    .str(meta.name)
    .int(meta.toolCount)
    .int(meta.modify)
    .str(meta.slug);
  return {
    id: meta.id,
    slug: meta.slug,
    toolCount: meta.toolCount,
    modify: meta.modify,
    flagged: meta.flagged ?? 0,
    outcome: meta.outcome,
    byCategory: meta.byCategory,
    byRisk: meta.byRisk,
    sources: meta.sources,
    key: displayKey(meta),
    sfp: fpOf(sfp),
    ufp: fpOf(ufp),
    lfp: [l.a, l.b],
  };
}

/** Name order: the display key, then the id (a total order, so every way of building the list gives the same one). */
export function compareRows(a: Pick<IndexRow, "key" | "id">, b: Pick<IndexRow, "key" | "id">): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : a.id - b.id;
}

const FORMAT = 2;
const LE = endianness() === "LE";

/** The stored form's header (the numbers follow it as one Int32 array). */
interface Header {
  v: number;
  le: boolean;
  n: number;
  keys: string[];
  slugs: string[];
  outcomes: string[];
  cats: string[];
  risks: string[];
  srcs: string[];
}

/**
 * Every server's index row, in name order, as columns: numbers in Int32 arrays, names and slugs in string arrays. It
 * is kept in the build manifest as one blob, so a rebuild reads 40,000 servers' rows without parsing 40,000 summaries
 * or sorting them, and the listings are planned from flat arrays.
 */
export class GlobalIndex {
  constructor(
    readonly ids: Int32Array,
    readonly keys: string[],
    readonly slugs: string[],
    /** six numbers a server: sfp, ufp, lfp */
    readonly fp: Int32Array,
    /** three numbers a server: toolCount, modify, flagged */
    readonly num: Int32Array,
    readonly outcomes: string[],
    /** index into outcomes, -1 for none */
    readonly out: Int32Array,
    readonly cats: string[],
    /** a count per name in cats for each server, -1 when the server's summary has no such key */
    readonly cat: Int32Array,
    readonly risks: string[],
    readonly risk: Int32Array,
    readonly srcs: string[],
    /** 1 when the server is listed by srcs[k] */
    readonly src: Int32Array,
  ) {}

  get length(): number {
    return this.ids.length;
  }
  toolCount(i: number): number {
    return this.num[i * 3]!;
  }

  /** The index of rows (any order; sorted here). */
  static fromRows(rows: IndexRow[]): GlobalIndex {
    return assemble(undefined, [...rows].sort(compareRows), []);
  }

  /**
   * This index with one build's changes: the rows of removed and re-rendered servers taken out, the new ones merged
   * in at their place in name order (the same index sorting everything again gives).
   */
  update(changed: Map<number, IndexRow>, removed: Set<number>): GlobalIndex {
    if (!changed.size && !removed.size) return this;
    const add = [...changed.values()].sort(compareRows);
    const order: number[] = [];
    let a = 0;
    for (let i = 0; i < this.ids.length; i++) {
      const id = this.ids[i]!;
      if (changed.has(id) || removed.has(id)) continue;
      const key = this.keys[i]!;
      while (a < add.length && compareRows(add[a]!, { key, id }) < 0) order.push(-1 - a++);
      order.push(i);
    }
    while (a < add.length) order.push(-1 - a++);
    return assemble(this, add, order);
  }

  serialize(): Buffer {
    const h: Header = {
      v: FORMAT,
      le: LE,
      n: this.ids.length,
      keys: this.keys,
      slugs: this.slugs,
      outcomes: this.outcomes,
      cats: this.cats,
      risks: this.risks,
      srcs: this.srcs,
    };
    const head = Buffer.from(JSON.stringify(h));
    const pad = (4 - ((4 + head.length) % 4)) % 4;
    const parts = [this.ids, this.fp, this.num, this.out, this.cat, this.risk, this.src];
    const len = Buffer.alloc(4);
    len.writeUInt32LE(head.length);
    return Buffer.concat([
      len,
      head,
      Buffer.alloc(pad),
      ...parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)),
    ]);
  }

  /** The index from its stored form; undefined when it was written in another format (or byte order). */
  static parse(buf: Buffer): GlobalIndex | undefined {
    const hl = buf.readUInt32LE(0);
    const h = JSON.parse(buf.toString("utf8", 4, 4 + hl)) as Header;
    if (h.v !== FORMAT || h.le !== LE) return undefined;
    const start = 4 + hl + ((4 - ((4 + hl) % 4)) % 4);
    // A copy: the blob's own offset need not be aligned for an Int32Array.
    const ints = new Int32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
    const n = h.n;
    let off = 0;
    const take = (k: number) => {
      const a = ints.subarray(off, off + k);
      off += k;
      return a;
    };
    return new GlobalIndex(
      take(n),
      h.keys,
      h.slugs,
      take(6 * n),
      take(3 * n),
      h.outcomes,
      take(n),
      h.cats,
      take(n * h.cats.length),
      h.risks,
      take(n * h.risks.length),
      h.srcs,
      take(n * h.srcs.length),
    );
  }

  /** Row i as an IndexRow (for tests and checks; the build reads the columns). */
  row(i: number): IndexRow {
    const counts = (names: string[], col: Int32Array) => {
      const out: Record<string, number> = {};
      for (let k = 0; k < names.length; k++) {
        const v = col[i * names.length + k]!;
        if (v >= 0) out[names[k]!] = v;
      }
      return out;
    };
    const f = this.fp.subarray(i * 6, i * 6 + 6);
    const o = this.out[i]!;
    return {
      id: this.ids[i]!,
      key: this.keys[i]!,
      slug: this.slugs[i]!,
      sfp: [f[0]!, f[1]!],
      ufp: [f[2]!, f[3]!],
      lfp: [f[4]!, f[5]!],
      toolCount: this.num[i * 3]!,
      modify: this.num[i * 3 + 1]!,
      flagged: this.num[i * 3 + 2]!,
      outcome: o < 0 ? null : this.outcomes[o]!,
      byCategory: counts(this.cats, this.cat),
      byRisk: counts(this.risks, this.risk),
      sources: this.srcs.filter((_, k) => this.src[i * this.srcs.length + k] === 1),
    };
  }

  /** The segments of a paged output over servers at the given positions, with their row counts and fingerprints. */
  segments(at: ArrayLike<number>, rows: ArrayLike<number>, fp: "sfp" | "ufp"): SegList {
    return new IndexSegs(this, at, rows, fp === "sfp" ? 0 : 2);
  }
}

class IndexSegs implements SegList {
  readonly length: number;
  constructor(
    private readonly ix: GlobalIndex,
    private readonly at: ArrayLike<number>,
    private readonly rows: ArrayLike<number>,
    private readonly fpOff: number,
  ) {
    this.length = at.length;
  }
  id(i: number): number {
    return this.ix.ids[this.at[i]!]!;
  }
  fp0(i: number): number {
    return this.ix.fp[this.at[i]! * 6 + this.fpOff]!;
  }
  fp1(i: number): number {
    return this.ix.fp[this.at[i]! * 6 + this.fpOff + 1]!;
  }
  n(i: number): number {
    return this.rows[i]!;
  }
  anchor(i: number): string {
    return this.ix.slugs[this.at[i]!]!;
  }
}

/** Sorted union of a name list and the names new rows bring. */
function names(old: string[] | undefined, add: IndexRow[], pick: (r: IndexRow) => Iterable<string>): string[] {
  const s = new Set(old ?? []);
  for (const r of add) for (const k of pick(r)) s.add(k);
  return s.size === (old?.length ?? -1) ? old! : [...s].sort();
}

/**
 * Builds an index from `order`: non-negative entries are rows of `old`, an entry -1-k is add[k]. Without `old`, the
 * order is add's own.
 */
function assemble(old: GlobalIndex | undefined, add: IndexRow[], order: number[]): GlobalIndex {
  const seq = old ? order : add.map((_, k) => -1 - k);
  const n = seq.length;
  const cats = names(old?.cats, add, (r) => Object.keys(r.byCategory));
  const risks = names(old?.risks, add, (r) => Object.keys(r.byRisk));
  const srcs = names(old?.srcs, add, (r) => r.sources);
  const outcomes = names(old?.outcomes, add, (r) => (r.outcome === null ? [] : [r.outcome]));
  const ids = new Int32Array(n);
  const keys: string[] = new Array(n);
  const slugs: string[] = new Array(n);
  const fp = new Int32Array(6 * n);
  const num = new Int32Array(3 * n);
  const out = new Int32Array(n);
  const cat = new Int32Array(n * cats.length).fill(-1);
  const risk = new Int32Array(n * risks.length).fill(-1);
  const src = new Int32Array(n * srcs.length);
  // Where each of old's name columns goes in the new lists.
  const remap = (from: string[] | undefined, to: string[]) => {
    const at = new Map(to.map((x, k) => [x, k]));
    return (from ?? []).map((x) => at.get(x)!);
  };
  const catMap = remap(old?.cats, cats);
  const riskMap = remap(old?.risks, risks);
  const srcMap = remap(old?.srcs, srcs);
  const outMap = remap(old?.outcomes, outcomes);
  const catAt = new Map(cats.map((x, k) => [x, k]));
  const riskAt = new Map(risks.map((x, k) => [x, k]));
  const srcAt = new Map(srcs.map((x, k) => [x, k]));
  const outAt = new Map(outcomes.map((x, k) => [x, k]));
  const nc = cats.length;
  const nr = risks.length;
  const ns = srcs.length;
  // Old rows in runs, when the name lists did not change (the usual case): columns copied a run at a time.
  const same = !!old && cats === old.cats && risks === old.risks && srcs === old.srcs && outcomes === old.outcomes;
  for (let p = 0; p < n; p++) {
    const e = seq[p]!;
    if (e >= 0 && old && same) {
      let end = p + 1;
      while (end < n && seq[end] === e + (end - p)) end++;
      const len = end - p;
      ids.set(old.ids.subarray(e, e + len), p);
      for (let k = 0; k < len; k++) {
        keys[p + k] = old.keys[e + k]!;
        slugs[p + k] = old.slugs[e + k]!;
      }
      fp.set(old.fp.subarray(e * 6, (e + len) * 6), p * 6);
      num.set(old.num.subarray(e * 3, (e + len) * 3), p * 3);
      out.set(old.out.subarray(e, e + len), p);
      cat.set(old.cat.subarray(e * nc, (e + len) * nc), p * nc);
      risk.set(old.risk.subarray(e * nr, (e + len) * nr), p * nr);
      src.set(old.src.subarray(e * ns, (e + len) * ns), p * ns);
      p = end - 1;
    } else if (e >= 0 && old) {
      ids[p] = old.ids[e]!;
      keys[p] = old.keys[e]!;
      slugs[p] = old.slugs[e]!;
      fp.set(old.fp.subarray(e * 6, e * 6 + 6), p * 6);
      num.set(old.num.subarray(e * 3, e * 3 + 3), p * 3);
      const o = old.out[e]!;
      out[p] = o < 0 ? -1 : outMap[o]!;
      for (let k = 0; k < catMap.length; k++) cat[p * nc + catMap[k]!] = old.cat[e * catMap.length + k]!;
      for (let k = 0; k < riskMap.length; k++) risk[p * nr + riskMap[k]!] = old.risk[e * riskMap.length + k]!;
      for (let k = 0; k < srcMap.length; k++) src[p * ns + srcMap[k]!] = old.src[e * srcMap.length + k]!;
    } else {
      const r = add[-1 - e]!;
      ids[p] = r.id;
      keys[p] = r.key;
      slugs[p] = r.slug;
      fp.set([r.sfp[0], r.sfp[1], r.ufp[0], r.ufp[1], r.lfp[0], r.lfp[1]], p * 6);
      num.set([r.toolCount, r.modify, r.flagged], p * 3);
      out[p] = r.outcome === null ? -1 : outAt.get(r.outcome)!;
      for (const k in r.byCategory) cat[p * nc + catAt.get(k)!] = r.byCategory[k]!;
      for (const k in r.byRisk) risk[p * nr + riskAt.get(k)!] = r.byRisk[k]!;
      for (const s of r.sources) src[p * ns + srcAt.get(s)!] = 1;
    }
  }
  return new GlobalIndex(ids, keys, slugs, fp, num, outcomes, out, cats, cat, risks, risk, srcs, src);
}
