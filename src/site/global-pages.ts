import type { ChangeEvent } from "../history/events.js";
import type { GlobalIndex } from "./global-index.js";
import { type Html, html } from "./html.js";
import { escapeHtml, flagBadge, href, layout, riskBadge, type SiteCtx, table } from "./layout.js";
import { type ServerMeta, type SiteFile, serverPath, type ToolSummary, toolPath } from "./server-pages.js";
import { CATEGORIES, plural, RISKS } from "./words.js";

/**
 * Rows per page of a paged output: browse listings, sitemap files (at most 50,000 URLs each), llms-full parts.
 * A page ends where content says so (see planPages), so its size varies between a quarter of `target` and `max`.
 */
export interface PageSize {
  target: number;
  max: number;
}
export const PAGE_SIZE: PageSize = { target: 250, max: 500 };
export const SITEMAP_URLS: PageSize = { target: 10_000, max: 40_000 };
export const LLMS_CHUNK: PageSize = { target: 500, max: 1500 };
/** Rows on the recently-changed page. */
export const RECENT_ROWS = 250;

const toJson = (v: unknown) => `${JSON.stringify(v)}\n`;
const lower = (s: string) => s.toLowerCase();

/**
 * A 64-bit running hash in two 32-bit lanes, for page keys: cheap enough to run over every row of every listing on
 * each build (a page would keep stale rows only if its inputs collided in 64 bits).
 */
export class Hash64 {
  a = 0x811c9dc5 | 0;
  b = 0x6a09e667 | 0;
  int(x: number): this {
    this.a = Math.imul(this.a ^ x, 0x9e3779b1);
    this.a ^= this.a >>> 15;
    this.b = Math.imul(this.b ^ x, 0x85ebca77);
    this.b = (this.b ^ (this.b >>> 13)) + this.a;
    this.b |= 0;
    return this;
  }
  str(s: string): this {
    for (let i = 0; i < s.length; i++) this.int(s.charCodeAt(i));
    return this.int(s.length);
  }
  hex(): string {
    const h = (x: number) => (x >>> 0).toString(16).padStart(8, "0");
    return `${h(this.a)}${h(this.b)}`;
  }
}

/** A server's summary fingerprint as two numbers, computed once per build and fed to every page key. */
export type Fp = readonly [number, number];
export function fpOf(s: string): Fp {
  const h = new Hash64().str(s);
  return [h.a, h.b];
}

/** A run of rows one server contributes to a paged output; `fp` changes whenever those rows may change. */
export interface Segment {
  id: number;
  fp: Fp;
  n: number;
  /** Names the page that starts with this segment (a server slug: path-safe and unique). */
  anchor: string;
}

/**
 * Segments as a list of accessors, so a paged output over 40,000 servers is planned from flat arrays (see
 * GlobalIndex.segments) without an object per segment.
 */
export interface SegList {
  readonly length: number;
  id(i: number): number;
  fp0(i: number): number;
  fp1(i: number): number;
  n(i: number): number;
  anchor(i: number): string;
}

class ArraySegs implements SegList {
  readonly length: number;
  constructor(private readonly s: Segment[]) {
    this.length = s.length;
  }
  id(i: number): number {
    return this.s[i]!.id;
  }
  fp0(i: number): number {
    return this.s[i]!.fp[0];
  }
  fp1(i: number): number {
    return this.s[i]!.fp[1];
  }
  n(i: number): number {
    return this.s[i]!.n;
  }
  anchor(i: number): string {
    return this.s[i]!.anchor;
  }
}

/**
 * One page of a paged output: the slices of segments it shows and a key of everything it depends on. The slices are
 * a range of the segment list, listed (segs) only for a page that is rendered.
 */
export class PagePlan {
  constructor(
    /** "" for the first page; else the anchor of its first row (`<anchor>~<k>` when it starts k rows into one). */
    readonly name: string,
    readonly prev: string | undefined,
    readonly next: string | undefined,
    readonly rows: number,
    readonly key: string,
    private readonly src: SegList,
    /** first and last segment (inclusive), the first row taken of the first and the end of the rows of the last */
    private readonly first: number,
    private readonly from0: number,
    private readonly last: number,
    private readonly toN: number,
  ) {}
  get segs(): { id: number; from: number; to: number }[] {
    const out: { id: number; from: number; to: number }[] = [];
    if (this.first < 0) return out;
    for (let i = this.first; i <= this.last; i++) {
      const from = i === this.first ? this.from0 : 0;
      const to = i === this.last ? this.toN : this.src.n(i);
      out.push({ id: this.src.id(i), from, to });
    }
    return out;
  }
  /** The ids of the segments on this page, in order (what segs lists, without the objects). */
  forEachId(f: (id: number) => void): void {
    if (this.first < 0) return;
    for (let i = this.first; i <= this.last; i++) f(this.src.id(i));
  }
}

/** A well-mixed number in [0, 1) from a server id (murmur3's finaliser). */
function unitHash(id: number): number {
  let h = id | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/**
 * Cuts segments into pages whose boundaries are chosen by content, not by counting: a page starts at a server whose
 * id hashes below (its rows ÷ target), once the page before has a quarter of `target` rows, or when a server would
 * not fit in `max`. A server with more than `max` rows is cut at fixed offsets of its own. Pages are named after
 * their first row, not numbered. So a change in one server (rows added, removed, re-classified) moves at most the
 * boundaries next to it: the other pages keep their names, rows and keys, and an incremental build leaves them be.
 * The first page's key also covers `firstKey` (what only the first page shows, such as totals).
 */
export function planPages(dim: string, segments: Segment[] | SegList, size: PageSize, firstKey = ""): PagePlan[] {
  const src: SegList = Array.isArray(segments) ? new ArraySegs(segments) : (segments as SegList);
  const min = Math.max(1, Math.floor(size.target / 4));
  type Draft = { name: string; rows: number; h: Hash64; first: number; from0: number; last: number; toN: number };
  const draft = (name: string): Draft => ({ name, rows: 0, h: new Hash64(), first: -1, from0: 0, last: -1, toN: 0 });
  const drafts: Draft[] = [];
  let cur = draft("");
  for (let i = 0; i < src.length; i++) {
    const n = src.n(i);
    if (n <= 0) continue;
    const id = src.id(i);
    for (let from = 0; from < n; ) {
      const take = Math.min(size.max, n - from);
      if (
        cur.rows > 0 &&
        (from > 0 || cur.rows + take > size.max || (cur.rows >= min && unitHash(id) < take / size.target))
      ) {
        drafts.push(cur);
        cur = draft(from > 0 ? `${src.anchor(i)}~${from}` : src.anchor(i));
      }
      if (cur.first < 0) {
        cur.first = i;
        cur.from0 = from;
      }
      cur.last = i;
      cur.toN = from + take;
      cur.h.int(id).int(src.fp0(i)).int(src.fp1(i)).int(from).int(take);
      cur.rows += take;
      from += take;
    }
  }
  drafts.push(cur);
  return drafts.map((d, i) => {
    const prev = drafts[i - 1]?.name;
    const next = drafts[i + 1]?.name;
    const key = `${d.h.hex()}|${dim}|${d.name}|${prev ?? "-"}|${next ?? "-"}|${i === 0 ? firstKey : ""}`;
    return new PagePlan(d.name, prev, next, d.rows, key, src, d.first, d.from0, d.last, d.toN);
  });
}

/** Where a page of a listing lives: the first at the listing's own path, the others under from/<name>/. */
export const pagePath = (basePath: string, name: string) => (name === "" ? basePath : `${basePath}from/${name}/`);

function pager(ctx: SiteCtx, basePath: string, plan: PagePlan): Html {
  if (plan.prev === undefined && plan.next === undefined) return html``;
  const p = (name: string) => href(ctx, pagePath(basePath, name));
  return html`<nav class="pager" aria-label="Pages">${plan.prev !== undefined ? html`${plan.prev !== "" ? html`<a href="${p("")}">First page</a>` : ""}<a href="${p(plan.prev)}" rel="prev">Previous</a>` : ""}${
    plan.next !== undefined ? html`<a href="${p(plan.next)}" rel="next">Next</a>` : ""
  }</nav>`;
}

/** A paged table (browse by category, risk, registry; all servers). */
export interface Listing<T> {
  dim: string;
  basePath: string;
  title: string;
  intro: (total: number) => string;
  crumbs: { label: string; path?: string }[];
  segments: SegList;
  /** Rows of all its pages. */
  total: number;
  rows: (id: number, from: number, to: number) => T[];
  head: Html;
  row: (x: T) => Html;
  json: (x: T) => unknown;
  /** A row in words, for the title of a page that starts with it. */
  label: (x: T) => string;
}

/** Renders one page of a listing (HTML and its JSON mirror); only the first page shows the total. */
export function renderListingPage<T>(ctx: SiteCtx, l: Listing<T>, plan: PagePlan, total: number): SiteFile[] {
  const items = plan.segs.flatMap((s) => l.rows(s.id, s.from, s.to));
  const path = pagePath(l.basePath, plan.name);
  const first = plan.name === "";
  const from = items[0] ? l.label(items[0]) : "";
  const title = first ? l.title : `${l.title}, from ${from}`;
  const body = html`<h1>${title}</h1><p>${first ? l.intro(total) : html`Continued from the <a href="${href(ctx, pagePath(l.basePath, plan.prev ?? ""))}">previous page</a>.`}</p>${pager(ctx, l.basePath, plan)}
${table(title, html`<thead>${l.head}</thead><tbody>${items.map(l.row)}</tbody>`)}
${pager(ctx, l.basePath, plan)}`;
  const link = (name: string | undefined) => (name === undefined ? null : pagePath(l.basePath, name));
  return [
    {
      path: `${path}index.html`,
      content: layout(ctx, { title, path, json: true, crumbs: l.crumbs }, body),
    },
    {
      path: `${path}index.json`,
      content: toJson({
        title: l.title,
        ...(first ? { total } : { from }),
        first: link(""),
        prev: link(plan.prev),
        next: link(plan.next),
        items: items.map(l.json),
      }),
    },
  ];
}

export interface ToolRef {
  meta: ServerMeta;
  tool: ToolSummary;
}

/** A recorded change for the "Recently changed" page, with the server and tool pages it links to when they exist. */
export interface RecentChange {
  change: ChangeEvent;
  meta: ServerMeta | undefined;
  tool: ToolSummary | undefined;
}

export const toolHead = html`<tr><th scope="col">Tool</th><th scope="col">Server</th><th scope="col">Category</th><th scope="col">Risk</th><th scope="col">Description</th></tr>`;
export const toolRow = (ctx: SiteCtx) => (x: ToolRef) =>
  html`<tr><td><a href="${href(ctx, toolPath(x.meta.slug, x.tool.s))}">${x.tool.n}</a></td><td><a href="${href(ctx, serverPath(x.meta.slug))}">${x.meta.title || x.meta.name}</a></td><td>${x.tool.c ?? "—"}</td><td>${riskBadge(x.tool.r)}${flagBadge(x.tool.f)}</td><td>${x.tool.d}</td></tr>`;
export const toolJson = (x: ToolRef) => ({
  name: x.tool.n,
  server: x.meta.name,
  path: toolPath(x.meta.slug, x.tool.s),
  category: x.tool.c,
  risk: x.tool.r,
  flags: x.tool.f ?? [],
  changed: x.tool.ch,
});
export const serverHead = html`<tr><th scope="col">Server</th><th scope="col">Tools</th><th scope="col">Can modify or destroy data</th><th scope="col">Last probe</th><th scope="col">Description</th></tr>`;
/** A server that was not listed shows "not listed" and why, never "0 tools, 0 can modify". */
const listedOf = (s: ServerMeta) => s.outcome === "ok";
export const serverRow = (ctx: SiteCtx) => (s: ServerMeta) =>
  listedOf(s)
    ? html`<tr><td><a href="${href(ctx, serverPath(s.slug))}">${s.title || s.name}</a></td><td>${s.toolCount}</td><td>${s.modify}${s.flagged ? html` <span class="flag">⚑ ${s.flagged} flagged</span>` : ""}</td><td>listed</td><td>${s.d}</td></tr>`
    : html`<tr><td><a href="${href(ctx, serverPath(s.slug))}">${s.title || s.name}</a></td><td>—</td><td>—</td><td><strong>not listed</strong>: ${s.outcome?.replace(/_/g, " ") ?? "not probed"}${s.err && s.err !== s.outcome?.replace(/_/g, " ") ? html` (${s.err})` : ""}</td><td>${s.d}</td></tr>`;
export const serverJson = (s: ServerMeta) => ({
  name: s.name,
  path: serverPath(s.slug),
  listed: listedOf(s),
  tools: listedOf(s) ? s.toolCount : null,
  canModify: listedOf(s) ? s.modify : null,
  flagged: s.flagged ?? 0,
  probe: s.outcome,
  ...(s.err ? { reason: s.err } : {}),
});

/** A server's summary by id (read from the build manifest when a page that shows it is rendered). */
export type MetaOf = (id: number) => ServerMeta;

/** A count map's keys in a fixed order (the known names in their order, then any others sorted), whatever order they were added in. */
function ordered(m: Record<string, number>, known: readonly string[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of known) if (k in m) out[k] = m[k]!;
  for (const k of Object.keys(m).sort()) if (!(k in out)) out[k] = m[k]!;
  return out;
}

/** Totals of the catalog from the servers' index rows (maps in a fixed key order). */
export function totalsOf(ix: GlobalIndex) {
  const byCategory: Record<string, number> = {};
  const byRisk: Record<string, number> = {};
  const registries: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  let tools = 0;
  let modify = 0;
  let flagged = 0;
  let notListed = 0;
  const n = ix.length;
  const sum = (names: string[], col: Int32Array, into: Record<string, number>, present = 0) => {
    const w = names.length;
    for (let k = 0; k < w; k++) {
      let total = 0;
      let seen = false;
      for (let i = 0; i < n; i++) {
        const v = col[i * w + k]!;
        if (v >= present) {
          total += v;
          seen = true;
        }
      }
      if (seen) into[names[k]!] = total;
    }
  };
  for (let i = 0; i < n; i++) {
    tools += ix.num[i * 3]!;
    modify += ix.num[i * 3 + 1]!;
    flagged += ix.num[i * 3 + 2]!;
    const o = ix.out[i]!;
    const name = o < 0 ? undefined : ix.outcomes[o]!;
    if (name !== "ok") notListed++;
    const key = name ?? "not probed";
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  sum(ix.cats, ix.cat, byCategory);
  sum(ix.risks, ix.risk, byRisk);
  // a registry counts the servers it lists (a 0 in the column is "not listed")
  sum(ix.srcs, ix.src, registries, 1);
  const cats = [...CATEGORIES, "Unclassified"].filter((c) => byCategory[c]);
  const risks = [...RISKS, "unclassified"].filter((r) => byRisk[r]);
  const regs = Object.keys(registries).sort();
  return {
    servers: n,
    tools,
    modify,
    flagged,
    notListed,
    byCategory: ordered(byCategory, [...CATEGORIES, "Unclassified"]),
    byRisk: ordered(byRisk, [...RISKS, "unclassified"]),
    registries: ordered(registries),
    outcomes: ordered(outcomes),
    cats,
    risks,
    regs,
  };
}
export type Totals = ReturnType<typeof totalsOf>;

const crumbsOf = (label: string) => [{ label: "Home", path: "/" }, { label: "Browse", path: "/browse/" }, { label }];

/** The paged listings: all servers, tools by category and by risk, servers by registry. */
export function listings(
  ctx: SiteCtx,
  ix: GlobalIndex,
  t: Totals,
  metaOf: MetaOf,
  toolsOf: (id: number) => ToolSummary[],
): Listing<ToolRef | ServerMeta>[] {
  // Every listing's segments in one pass over the servers (in name order): positions in the index and row counts.
  const n = ix.length;
  type Acc = { at: number[]; rows: number[] };
  const acc = (): Acc => ({ at: [], rows: [] });
  const all = acc();
  const byReg = new Map<string, Acc>(t.regs.map((r) => [r, acc()]));
  const byCat = new Map<string, Acc>(t.cats.map((c) => [c, acc()]));
  const byRisk = new Map<string, Acc>(t.risks.map((r) => [r, acc()]));
  const cols = (names: string[], by: Map<string, Acc>) => names.map((x) => by.get(x));
  const regCols = cols(ix.srcs, byReg);
  const catCols = cols(ix.cats, byCat);
  const riskCols = cols(ix.risks, byRisk);
  for (let i = 0; i < n; i++) {
    all.at.push(i);
    all.rows.push(1);
    for (let k = 0; k < regCols.length; k++) {
      const a = regCols[k];
      if (a && ix.src[i * regCols.length + k] === 1) {
        a.at.push(i);
        a.rows.push(1);
      }
    }
    for (let k = 0; k < catCols.length; k++) {
      const a = catCols[k];
      const v = ix.cat[i * catCols.length + k]!;
      if (a && v > 0) {
        a.at.push(i);
        a.rows.push(v);
      }
    }
    for (let k = 0; k < riskCols.length; k++) {
      const a = riskCols[k];
      const v = ix.risk[i * riskCols.length + k]!;
      if (a && v > 0) {
        a.at.push(i);
        a.rows.push(v);
      }
    }
  }
  const segs = (a: Acc | undefined) => ix.segments(a?.at ?? [], a?.rows ?? [], "sfp");
  const totalOf = (a: Acc | undefined) => (a?.rows ?? []).reduce((x, y) => x + y, 0);
  const out: Listing<ToolRef | ServerMeta>[] = [];
  const serverListing = (
    dim: string,
    basePath: string,
    title: string,
    a: Acc | undefined,
    crumbs: Listing<ServerMeta>["crumbs"],
  ): Listing<ServerMeta> => ({
    dim,
    basePath,
    title,
    intro: (n: number) => `${plural(n, "server")}, by name.`,
    crumbs,
    segments: segs(a),
    total: totalOf(a),
    rows: (id: number) => [metaOf(id)],
    head: serverHead,
    row: serverRow(ctx),
    json: serverJson,
    label: (m: ServerMeta) => m.title || m.name,
  });
  out.push(
    serverListing("servers", "/servers/", "All servers", all, [
      { label: "Home", path: "/" },
      { label: "Servers" },
    ]) as never,
  );
  for (const reg of t.regs) {
    out.push(
      serverListing(
        `registry:${reg}`,
        `/browse/registry/${reg}/`,
        `Servers listed by ${reg}`,
        byReg.get(reg),
        crumbsOf(reg),
      ) as never,
    );
  }
  const toolListing = (
    dim: string,
    basePath: string,
    title: string,
    label: string,
    a: Acc | undefined,
    keep: (x: ToolSummary) => boolean,
  ): Listing<ToolRef> => ({
    dim,
    basePath,
    title,
    intro: (n: number) => `${plural(n, "tool")}, by server name, then tool name.`,
    crumbs: crumbsOf(label),
    segments: segs(a),
    total: totalOf(a),
    rows: (id: number, from: number, to: number) => {
      const meta = metaOf(id);
      return toolsOf(id)
        .filter(keep)
        .slice(from, to)
        .map((tool) => ({ meta, tool }));
    },
    head: toolHead,
    row: toolRow(ctx),
    json: toolJson,
    label: (x: ToolRef) => `${x.tool.n} (${x.meta.title || x.meta.name})`,
  });
  for (const c of t.cats) {
    out.push(
      toolListing(
        `cat:${c}`,
        `/browse/category/${lower(c)}/`,
        `${c} tools`,
        c,
        byCat.get(c),
        (x) => (x.c ?? "Unclassified") === c,
      ) as never,
    );
  }
  for (const r of t.risks) {
    out.push(
      toolListing(
        `risk:${r}`,
        `/browse/risk/${r}/`,
        `${r[0]?.toUpperCase()}${r.slice(1)} risk tools`,
        r,
        byRisk.get(r),
        (x) => (x.r ?? "unclassified") === r,
      ) as never,
    );
  }
  return out;
}

/** Pages that summarise the whole catalog and are cheap to render every time. */
export function summaryFiles(ctx: SiteCtx, t: Totals, recent: RecentChange[]): SiteFile[] {
  const n = (x: number) => x.toLocaleString("en-US");
  const home = html`<h1>MCP servers and their tools, by what they can do</h1>
<p class="lead">Every tool of every MCP server we could list, classified by the access it needs and the risk of letting an agent call it, with the policy to paste.</p>
<ul class="totals"><li><strong>${n(t.servers)}</strong> ${t.servers === 1 ? "server" : "servers"}</li><li><strong>${n(t.tools)}</strong> ${t.tools === 1 ? "tool" : "tools"}</li><li><strong>${n(t.modify)}</strong> can modify or destroy data</li><li><strong>${n(t.flagged)}</strong> ${t.flagged === 1 ? "tool carries" : "tools carry"} poisoning flags</li><li><strong>${n(t.notListed)}</strong> ${t.notListed === 1 ? "server" : "servers"} not listed</li><li><strong>${t.regs.length}</strong> ${t.regs.length === 1 ? "registry" : "registries"}</li></ul>
<h2>What the catalog is made of</h2>
${barChart(
  "chart-cat",
  "Tools by category",
  t.cats.map((c) => ({ label: c, n: t.byCategory[c] ?? 0, cls: c === "Unclassified" ? "unclassified" : "cat" })),
)}
${barChart(
  "chart-risk",
  "Tools by risk",
  t.risks.map((r) => ({ label: r, n: t.byRisk[r] ?? 0, cls: r })),
)}
<h2>Browse</h2>
<ul>
${t.cats.map((c) => html`<li><a href="${href(ctx, `/browse/category/${lower(c)}/`)}">${c} tools</a> (${n(t.byCategory[c] ?? 0)})</li>`)}
${t.risks.map((r) => html`<li><a href="${href(ctx, `/browse/risk/${r}/`)}">${r} risk</a> (${n(t.byRisk[r] ?? 0)})</li>`)}
<li><a href="${href(ctx, "/servers/")}">All servers</a></li>
<li><a href="${href(ctx, "/browse/recent/")}">Recently changed tools</a></li>
<li><a href="${href(ctx, "/feed.xml")}" type="application/atom+xml">Atom feed of the catalog's changes</a></li>
</ul>
<h2>Probe outcomes</h2><ul>${Object.entries(t.outcomes)
    .sort()
    .map(([k, v]) => html`<li>${k.replace(/_/g, " ")}: ${n(v)}</li>`)}</ul>`;
  const totalsJson = {
    servers: t.servers,
    tools: t.tools,
    canModify: t.modify,
    flagged: t.flagged,
    notListed: t.notListed,
    byCategory: t.byCategory,
    byRisk: t.byRisk,
    probeOutcomes: t.outcomes,
    registries: t.registries,
  };
  const browse = html`<h1>Browse</h1>
<section aria-labelledby="b-cat"><h2 id="b-cat">By category</h2><ul>${t.cats.map((c) => html`<li><a href="${href(ctx, `/browse/category/${lower(c)}/`)}">${c}</a> (${n(t.byCategory[c] ?? 0)})</li>`)}</ul></section>
<section aria-labelledby="b-risk"><h2 id="b-risk">By risk</h2><ul>${t.risks.map((r) => html`<li><a href="${href(ctx, `/browse/risk/${r}/`)}">${r}</a> (${n(t.byRisk[r] ?? 0)})</li>`)}</ul></section>
<section aria-labelledby="b-reg"><h2 id="b-reg">By registry</h2><ul>${t.regs.map((r) => html`<li><a href="${href(ctx, `/browse/registry/${r}/`)}">${r}</a> (${n(t.registries[r] ?? 0)} servers)</li>`)}</ul></section>
<section aria-labelledby="b-rec"><h2 id="b-rec">Recently changed</h2><p><a href="${href(ctx, "/browse/recent/")}">Tools whose definition changed most recently</a></p></section>`;
  const recentCrumbs = crumbsOf("Recently changed");
  const recentBody = html`<h1>Recently changed tools</h1><p>${
    recent.length
      ? `The latest ${plural(recent.length, "recorded change")} of tool definitions, newest first, with what changed and how severe it is.`
      : "No changes recorded yet: the catalog records a change when a server it has already listed adds, removes or rewrites a tool."
  }</p>
${
  recent.length
    ? table(
        "Recently changed tools",
        html`<thead><tr><th scope="col">When</th><th scope="col">Tool</th><th scope="col">Server</th><th scope="col">Severity</th><th scope="col">What changed</th></tr></thead><tbody>
${recent.map(
  (x) =>
    html`<tr><td>${x.change.at.slice(0, 10)}</td><td>${x.meta && x.tool ? html`<a href="${href(ctx, `${toolPath(x.meta.slug, x.tool.s)}#hist-h`)}">${x.change.toolName}</a>` : x.change.toolName}</td><td>${x.meta ? html`<a href="${href(ctx, serverPath(x.meta.slug))}">${x.meta.title || x.meta.name}</a>` : x.change.server}</td><td><span class="badge sev-${x.change.severity}">${x.change.severity}</span></td><td>${x.change.kind.replace(/_/g, " ")}: ${x.change.reason}</td></tr>`,
)}
</tbody>`,
      )
    : ""
}`;
  const search = html`<h1>Search</h1>
<form id="search-form" class="search-form" role="search" action="${href(ctx, "/search/")}" method="get">
<label for="q">Search tools and servers by name, description, risk or category</label>
<input id="q" name="q" type="search" autocomplete="off" autofocus>
<button type="submit">Search</button>
</form>
<p id="search-status" class="status" role="status" aria-live="polite"></p>
<div id="search-results"></div>
<noscript><p>Search needs JavaScript. Without it, <a href="${href(ctx, "/browse/")}">browse by category, risk or registry</a> or the <a href="${href(ctx, "/servers/")}">list of servers</a>.</p></noscript>`;
  return [
    {
      path: "/index.html",
      content: layout(
        ctx,
        {
          title: "MCP tool catalog",
          path: "/",
          json: true,
          feed: { title: "Changes in the catalog", path: "/feed.xml" },
        },
        home,
      ),
    },
    { path: "/index.json", content: toJson(totalsJson) },
    {
      path: "/browse/index.html",
      content: layout(
        ctx,
        { title: "Browse", path: "/browse/", json: true, crumbs: [{ label: "Home", path: "/" }, { label: "Browse" }] },
        browse,
      ),
    },
    {
      path: "/browse/index.json",
      content: toJson({ categories: t.byCategory, risks: t.byRisk, registries: t.registries }),
    },
    {
      path: "/browse/recent/index.html",
      content: layout(
        ctx,
        { title: "Recently changed tools", path: "/browse/recent/", json: true, crumbs: recentCrumbs },
        recentBody,
      ),
    },
    {
      path: "/browse/recent/index.json",
      content: toJson({
        items: recent.map((x) => ({
          at: x.change.at,
          tool: x.change.toolName,
          server: x.change.server,
          kind: x.change.kind,
          severity: x.change.severity,
          reason: x.change.reason,
          path: x.meta && x.tool ? toolPath(x.meta.slug, x.tool.s) : null,
        })),
      }),
    },
    {
      path: "/search/index.html",
      content: layout(
        ctx,
        {
          title: "Search",
          path: "/search/",
          scripts: ["search-words.js", "search.js"],
          crumbs: [{ label: "Home", path: "/" }, { label: "Search" }],
        },
        search,
      ),
    },
    {
      path: "/404.html",
      content: layout(
        ctx,
        { title: "Not found", path: "/404.html" },
        html`<h1>Not found</h1><p>No page here. Try the <a href="${href(ctx, "/search/")}">search</a> or <a href="${href(ctx, "/browse/")}">browse</a>.</p>`,
      ),
    },
    { path: "/robots.txt", content: `User-agent: *\nAllow: /\nSitemap: ${ctx.baseUrl}/sitemap.xml\n` },
    {
      path: "/llms.txt",
      content: `# mcp-census\n\n> A catalog of ${t.servers} MCP servers and their ${t.tools} tools, each classified by the access it needs (Read, Write, Execute, Destructive, Financial) and its risk (low to critical), with a recommended policy.\n\nEvery HTML page has a JSON mirror: append index.json to its URL.\n\n## Sections\n\n- [All servers](${ctx.baseUrl}/servers/): servers by name\n- [Browse](${ctx.baseUrl}/browse/): tools by category, risk and registry\n- [Recently changed](${ctx.baseUrl}/browse/recent/): newest tool definitions\n- [Full catalog as text](${ctx.baseUrl}/llms-full.txt): every server, with its tools in linked parts\n\n## Categories\n\n${t.cats
        .map((c) => `- [${c} tools](${ctx.baseUrl}/browse/category/${lower(c)}/): ${t.byCategory[c] ?? 0}`)
        .join("\n")}\n`,
    },
  ];
}

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

/** Where an llms-full part and a sitemap file live, by page name. */
export const llmsPartPath = (name: string) => `/llms-full/${name || "start"}.txt`;
export const sitemapPath = (name: string) => `/sitemaps/${name || "start"}.xml`;
export const GLOBAL_SITEMAP = "/sitemaps/pages.xml";

/** llms-full.txt: every server on one line, and its tools in /llms-full/<name>.txt parts (one file would be huge). */
export function llmsFullIndex(ctx: SiteCtx, metas: ServerMeta[], t: Totals, plans: PagePlan[]): SiteFile {
  const partOf = new Map<number, string>();
  for (const p of plans) p.forEachId((id) => partOf.set(id, `${ctx.baseUrl}${llmsPartPath(p.name)}`));
  const lines = [
    `# mcp-census: full catalog\n\n${t.servers} servers, ${t.tools} tools. Tools of each server are in the part named after it.\n\n## Parts\n\n`,
  ];
  for (const p of plans) lines.push(`- ${ctx.baseUrl}${llmsPartPath(p.name)}\n`);
  lines.push("\n## Servers\n\n");
  for (const m of metas) {
    lines.push(
      `- ${oneLine(m.title || m.name)} (${oneLine(m.name)}): ${m.toolCount} tools, ${m.modify} can modify or destroy data; ${ctx.baseUrl}${serverPath(m.slug)}; tools in ${partOf.get(m.id) ?? "-"}\n`,
    );
  }
  return { path: "/llms-full.txt", content: lines.join("") };
}

/**
 * The key of llms-full.txt: exactly what llmsFullIndex reads (totals, the parts and which servers each holds, and
 * each server's names, counts and slug), so a change to a tool's description does not re-render a 40,000-line file.
 */
export function llmsIndexKey(ix: GlobalIndex, t: Totals, plans: PagePlan[]): string {
  const h = new Hash64().int(t.servers).int(t.tools);
  for (const p of plans) {
    h.str(p.name);
    p.forEachId((id) => h.int(id));
  }
  // Each server's names, counts and slug, hashed once when its row was made (lfp).
  for (let i = 0; i < ix.length; i++)
    h.int(ix.ids[i]!)
      .int(ix.fp[i * 6 + 4]!)
      .int(ix.fp[i * 6 + 5]!);
  return `llms-index|${h.hex()}`;
}

/** One part of llms-full: the servers of a plan with every tool and its classification. */
export function llmsFullPart(
  ctx: SiteCtx,
  plan: PagePlan,
  metaOf: MetaOf,
  toolsOf: (id: number) => ToolSummary[],
): SiteFile {
  const out: string[] = [`# mcp-census: full catalog, the tools of ${plan.segs.length} servers\n`];
  for (const seg of plan.segs) {
    const m = metaOf(seg.id);
    out.push(
      `\n## ${oneLine(m.title || m.name)} (${oneLine(m.name)})\n\n${ctx.baseUrl}${serverPath(m.slug)}\n${m.d ? `\n${oneLine(m.d)}\n` : ""}\n`,
    );
    for (const tl of toolsOf(seg.id))
      out.push(`- ${oneLine(tl.n)}: ${tl.c ?? "unclassified"}, ${tl.r ?? "unknown"} risk. ${oneLine(tl.d)}\n`);
  }
  return { path: llmsPartPath(plan.name), content: out.join("") };
}

const urlset = (ctx: SiteCtx, paths: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${paths
    .map((u) => `<url><loc>${escapeHtml(ctx.baseUrl + u)}</loc></url>`)
    .join("\n")}\n</urlset>\n`;

/** The sitemap of the site's own pages (home, browse listings, search). */
export function globalSitemap(ctx: SiteCtx, paths: string[]): SiteFile {
  return { path: GLOBAL_SITEMAP, content: urlset(ctx, paths) };
}

/** One sitemap file of server and tool pages: the URLs of the slices of its plan. */
export function sitemapPart(
  ctx: SiteCtx,
  plan: PagePlan,
  metaOf: MetaOf,
  toolsOf: (id: number) => ToolSummary[],
): SiteFile {
  const urls: string[] = [];
  for (const seg of plan.segs) {
    const m = metaOf(seg.id);
    const all = [serverPath(m.slug), ...toolsOf(seg.id).map((tl) => toolPath(m.slug, tl.s))];
    for (const u of all.slice(seg.from, seg.to)) urls.push(u);
  }
  return { path: sitemapPath(plan.name), content: urlset(ctx, urls) };
}

export function sitemapIndex(ctx: SiteCtx, files: string[]): SiteFile {
  return {
    path: "/sitemap.xml",
    content: `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${files
      .map((f) => `<sitemap><loc>${escapeHtml(`${ctx.baseUrl}${f}`)}</loc></sitemap>`)
      .join("\n")}\n</sitemapindex>\n`,
  };
}

/** The catalog's make-up as inline SVG bars (no script), with the numbers also in text. */
export function barChart(id: string, title: string, rows: { label: string; n: number; cls: string }[]): Html {
  const max = Math.max(1, ...rows.map((r) => r.n));
  const bar = 24;
  const gap = 8;
  // Narrow enough that on a 390 px phone the chart is barely scaled down, so its 14 px labels stay readable.
  const labelW = 104;
  const width = 380;
  const h = rows.length * (bar + gap) + gap;
  const fill: Record<string, string> = {
    low: "#1a7f37",
    medium: "#8a5a00",
    high: "#bc4c00",
    critical: "#a40e26",
    unclassified: "#57606a",
    cat: "#0550ae",
  };
  return html`<figure><svg class="chart" role="img" aria-labelledby="${id}-t ${id}-d" viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" xmlns="http://www.w3.org/2000/svg">
<title id="${id}-t">${title}</title><desc id="${id}-d">${rows.map((r) => `${r.label}: ${r.n}`).join(", ")}</desc>
${rows.map((r, i) => {
  const y = gap + i * (bar + gap);
  const w = Math.max(r.n ? 2 : 0, Math.round(((width - labelW - 64) * r.n) / max));
  return html`<text x="0" y="${y + 17}" font-size="14" fill="#1f2328">${r.label}</text><rect x="${labelW}" y="${y}" width="${w}" height="${bar}" fill="${fill[r.cls] ?? "#0550ae"}"></rect><text x="${labelW + w + 6}" y="${y + 17}" font-size="14" fill="#1f2328">${r.n.toLocaleString("en-US")}</text>`;
})}
</svg><figcaption>${title}</figcaption></figure>`;
}
