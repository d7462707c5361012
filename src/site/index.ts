import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { processAlive } from "../core/concurrency.js";
import { storageError } from "../core/errors.js";
import { renderAtom } from "../history/atom.js";
import type { ChangeEvent } from "../history/events.js";
import { listChanges } from "../history/index.js";
import type { Sqlite } from "../store/db.js";
import {
  catalogFile,
  catalogSince,
  classifiedSince,
  hasChanges,
  loadServerBundle,
  prepareBundleStatements,
  serverFingerprints,
} from "../store/site.js";
import { entriesByToken, SiteState, type TokenEntries } from "../store/site-state.js";
import { GlobalIndex, type IndexRow, rowOf } from "./global-index.js";
import {
  GLOBAL_SITEMAP,
  globalSitemap,
  LLMS_CHUNK,
  listings,
  llmsFullIndex,
  llmsFullPart,
  llmsIndexKey,
  llmsPartPath,
  PAGE_SIZE,
  type PageSize,
  pagePath,
  planPages,
  RECENT_ROWS,
  type RecentChange,
  renderListingPage,
  SITEMAP_URLS,
  sitemapIndex,
  sitemapPart,
  sitemapPath,
  summaryFiles,
  totalsOf,
} from "./global-pages.js";
import { siteCtx } from "./layout.js";
import { type PolicyProvider, policyProvider } from "./policy-view.js";
import { indexServer, type PreparedServer, prepareServer } from "./prepare.js";
import type { RenderWorkerData } from "./render-worker.js";
import { buildShard, keyRange, newKeyFor, planShards, type SearchIndexOpts, shardFor } from "./search-index.js";
import type { SearchWorkerData, ShardResult } from "./search-worker.js";
import {
  FEED_ENTRIES,
  renderServerPages,
  type ServerMeta,
  type SiteFile,
  serverPath,
  type ToolSummary,
  toolPath,
} from "./server-pages.js";
import { FileSink } from "./writer.js";

/** Bump when templates change so every page is re-rendered once. */
export const SITE_VERSION = "site-7";

export interface BuildSiteOpts {
  /** Absolute URL the site is served from (canonical links, sitemaps); its path prefixes every link. */
  baseUrl?: string;
  /** Re-render and rewrite everything, ignoring the manifest (stale files are still deleted). */
  full?: boolean;
  onProgress?: (p: { phase: "servers" | "global" | "search"; done: number; total: number }) => void;
  /** Policy views; default: src/policy with the balanced profile; null: none. */
  policy?: PolicyProvider | null;
  /** The build manifest (SQLite); default `<outDir>.state.db`, beside the site so it is never published. */
  statePath?: string;
  search?: SearchIndexOpts;
  /** Rows per browse page (default PAGE_SIZE: about 250, at most 500). */
  pageSize?: PageSize;
  /**
   * Render servers in this many worker threads (each with its own read-only catalog connection; at most one per
   * core; 0: render on this thread). Default: one per core but one when the build renders at least 256 servers
   * (see workerCount). Needs a catalog file and the default policy views.
   */
  workers?: number;
}

export interface BuildSiteResult {
  /** Files written (HTML pages, JSON mirrors, search shards, feeds, assets). */
  pagesWritten: number;
  pagesUnchanged: number;
  pagesDeleted: number;
  /** Bytes written in this build. */
  bytes: number;
  serversRendered: number;
  serversSkipped: number;
  serversRemoved: number;
  /** Shards in the search index, and bytes of the shards written in this build. */
  searchShards: number;
  searchBytes: number;
  /** Shards rebuilt from the postings in this build (written only when their bytes changed). */
  searchShardsBuilt: number;
  /** Of those, built in a thread of their own while the global pages rendered (a full build's). */
  searchShardsThreaded: number;
  policies: boolean;
  /** Milliseconds spent in each phase of the build. */
  timings: { detect: number; servers: number; global: number; search: number; finish: number };
}

/** Tool summaries kept in memory while global pages render (see toolsOf in buildSite). */
const MAX_CACHED_TOOLS = 600_000;
const ASSETS = ["site.css", "copy.js", "search-words.js", "search.js", "icon.svg"];
const GLOBAL = 0;
/** The manifest's meta key of the global pages' index (see global-index.ts). */
const GLOBAL_INDEX = "globalIndex";
const FIXED_PAGES = ["/", "/browse/", "/browse/recent/", "/search/"];

/**
 * Below this many servers to render, a build renders on its own thread: starting a worker (its modules, its catalog
 * connection) costs more than it saves, and a one-server rebuild must stay well under 2 s.
 */
const MIN_WORKER_SERVERS = 256;

/**
 * How many render workers to use. Default: one per core but one, for a build of at least MIN_WORKER_SERVERS servers
 * from a catalog file — the main thread then only stores the build state and queues the bytes the workers encoded,
 * and the file-writer thread writes them. On the 2-core benchmark machine that is one worker (docs/benchmarks/
 * site-figures.md: the servers phase no longer waits on rendering; each worker costs its own heap, ~100 MB at 50k
 * tools). 0 (or a one-core machine) renders on this thread. Never more than one per core.
 */
function workerCount(opts: BuildSiteOpts, sqlite: Sqlite, dirty: number): number {
  if (opts.policy !== undefined && opts.policy !== null) return 0; // a custom provider cannot cross threads
  if (catalogFile(sqlite) === null || dirty === 0) return 0;
  const cores = availableParallelism();
  if (opts.workers === undefined) return dirty >= MIN_WORKER_SERVERS ? Math.max(0, cores - 1) : 0;
  return Math.min(Math.max(0, Math.floor(opts.workers)), cores);
}

/**
 * The render worker's entry. The built package runs the compiled render-worker.js; running the TypeScript source
 * (a checkout, through tsx) needs the .mjs shim, which registers tsx in the worker thread (workers do not inherit it).
 */
const RENDER_WORKER = import.meta.url.endsWith(".ts")
  ? new URL("./render-worker.mjs", import.meta.url)
  : new URL("./render-worker.js", import.meta.url);

/**
 * A render worker's young generation (V8 keeps a third of it per semi-space): 96 MB, semi-spaces of 32 MB instead of
 * V8's 16. A worker allocates each page as thousands of short-lived strings and template results; a larger nursery
 * collects them less often and promotes fewer of them (rendering 400 servers of the 50k catalog in one thread, warm:
 * 780-830 -> 680-700 ms render, 250-275 -> 220-235 ms encode). Costs up to 64 MB more of the worker's memory.
 */
const WORKER_YOUNG_MB = 96;

/** A full build builds its search shards in a thread of their own when there are at least this many (default). */
const MIN_THREAD_SHARDS = 64;

/** The search worker's entry (as RENDER_WORKER). */
const SEARCH_WORKER = import.meta.url.endsWith(".ts")
  ? new URL("./search-worker.mjs", import.meta.url)
  : new URL("./search-worker.js", import.meta.url);

/**
 * Search shards built in a worker thread (search-worker.ts), taken in the order they were asked for. The thread runs
 * ahead of the build: at most every shard's bytes wait here (the search index's size, 250 MB at 500k tools).
 */
class ShardThread {
  private readonly worker: Worker;
  private readonly ready: ShardResult[] = [];
  private failed: Error | undefined;
  private wake: (() => void) | undefined;
  private exited = false;

  constructor(data: SearchWorkerData) {
    this.worker = new Worker(SEARCH_WORKER, { workerData: data });
    const signal = () => {
      const w = this.wake;
      this.wake = undefined;
      w?.();
    };
    this.worker.on("message", (r: ShardResult) => {
      this.ready.push(r);
      signal();
    });
    this.worker.on("error", (err) => {
      this.failed ??= err;
      signal();
    });
    this.worker.on("exit", (code) => {
      this.exited = true;
      if (code !== 0) this.failed ??= new Error(`the search shard thread stopped (exit code ${code})`);
      signal();
    });
  }

  /** The shard `key`, which must be the next one asked for. */
  async next(key: string): Promise<ShardResult> {
    for (;;) {
      const r = this.ready.shift();
      if (r) {
        if (r.key !== key) throw new Error(`search shard ${r.key} came where ${key} was expected`);
        return r;
      }
      if (this.failed) throw this.failed;
      if (this.exited) throw new Error(`the search shard thread ended before shard ${key}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  async close(): Promise<void> {
    if (!this.exited) await this.worker.terminate();
  }
}

/**
 * Renders servers in worker threads, a few batches in flight per worker, and hands each result to `handle` on this
 * thread (the only writer of files and of the manifest). Stops at the first error.
 */
async function renderInWorkers(
  ids: number[],
  data: RenderWorkerData,
  count: number,
  handle: (r: PreparedServer) => Promise<void>,
): Promise<void> {
  const batches: number[][] = [];
  for (let i = 0; i < ids.length; i += 16) batches.push(ids.slice(i, i + 16));
  const results: PreparedServer[][] = [];
  let next = 0;
  let active = 0;
  let failed: unknown;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const pool = Array.from(
    { length: count },
    () =>
      new Worker(RENDER_WORKER, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } }),
  );
  const feed = (w: Worker) => {
    if (next < batches.length && results.length < 8 && !failed) {
      active++;
      w.postMessage(batches[next++]);
    }
  };
  try {
    for (const w of pool) {
      w.on("message", (r: PreparedServer[]) => {
        active--;
        results.push(r);
        feed(w);
        signal();
      });
      w.on("error", (err) => {
        failed ??= err;
        signal();
      });
      feed(w);
      feed(w);
    }
    for (;;) {
      if (failed) throw failed;
      const batch = results.shift();
      if (batch) {
        for (const r of batch) await handle(r);
        // Room was made in the queue: give idle workers more.
        for (const w of pool) if (active < pool.length * 2) feed(w);
        continue;
      }
      if (active === 0 && next >= batches.length) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/** Builds (or incrementally updates) the static site for the catalog into outDir. */
/** A page's temporary name while it is replaced (src/site/file-writer.mjs): `<page>.<pid of the writer>.tmp`. */
const TEMP_PAGE = /\.(\d+)\.tmp$/;

/** Removes the temporary pages under `root` that a killed build left (their writer process no longer exists). */
function removeOrphanedTempFiles(root: string): void {
  for (const f of readdirSync(root, { recursive: true, encoding: "utf8" })) {
    const m = TEMP_PAGE.exec(f);
    if (!m || processAlive(Number(m[1]))) continue;
    try {
      unlinkSync(join(root, f));
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") throw err;
    }
  }
}

export async function buildSite(sqlite: Sqlite, outDir: string, opts: BuildSiteOpts = {}): Promise<BuildSiteResult> {
  const root = resolve(outDir);
  const ctx = siteCtx(opts.baseUrl ?? "http://localhost:8080/");
  const policy = opts.policy === undefined ? policyProvider() : (opts.policy ?? undefined);
  const maxShardBytes = opts.search?.maxShardBytes ?? 160_000;
  const maxPostings = opts.search?.maxPostings ?? 1500;
  mkdirSync(root, { recursive: true });
  const statePath = opts.statePath ?? `${root}.state.db`;
  const state = new SiteState<ServerMeta, ToolSummary>(statePath);
  const res: BuildSiteResult = {
    pagesWritten: 0,
    pagesUnchanged: 0,
    pagesDeleted: 0,
    bytes: 0,
    serversRendered: 0,
    serversSkipped: 0,
    serversRemoved: 0,
    searchShards: 0,
    searchBytes: 0,
    searchShardsBuilt: 0,
    searchShardsThreaded: 0,
    policies: !!policy,
    timings: { detect: 0, servers: 0, global: 0, search: 0, finish: 0 },
  };
  let lap = performance.now();
  const mark = (phase: keyof BuildSiteResult["timings"]) => {
    const now = performance.now();
    res.timings[phase] = Math.round(now - lap);
    lap = now;
  };
  // Files are encoded and hashed here, and written by a separate thread (see writer.ts).
  const sink = new FileSink(root, (f) => state.forgetFile(f.path));
  /** The thread building a full build's search shards, while it runs. */
  let shards: ShardThread | undefined;
  try {
    const version = `${SITE_VERSION}|${ctx.baseUrl}|${policy ? "policy" : "no-policy"}|${maxShardBytes}|${maxPostings}`;
    // A site folder deleted (or emptied) behind the manifest's back is rebuilt in full.
    const force = !!opts.full || state.meta("version") !== version || !existsSync(join(root, "index.html"));
    // The last build stopped part way (see below): a kill between a replaced page's write and its rename left
    // `<page>.<pid>.tmp` files, which no manifest lists; remove those of processes that are gone.
    if (state.meta("version") === "") removeOrphanedTempFiles(root);
    if (force) {
      state.resetDerived();
      state.beginBulk();
    }
    const write = (path: string, text: string, owner: number) => {
      // Encode once: the same bytes are hashed and written.
      const { hash, bytes } = sink.stage(text);
      if (!force && state.fileHash(path) === hash) {
        res.pagesUnchanged++;
        return;
      }
      sink.commit(path);
      state.putFileHash(path, hash, owner);
      res.pagesWritten++;
      res.bytes += bytes;
    };
    /** The same as write, for bytes encoded and hashed by prepareServer. */
    const writeBytes = (path: string, hash: string, bytes: Uint8Array, owner: number) => {
      if (!force && state.fileHash(path) === hash) {
        res.pagesUnchanged++;
        return;
      }
      sink.commitBytes(path, bytes);
      state.putFileHash(path, hash, owner);
      res.pagesWritten++;
      res.bytes += bytes.length;
    };
    const remove = (path: string) => {
      try {
        unlinkSync(join(root, path));
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOENT") throw err;
      }
      state.deleteFile(path);
      res.pagesDeleted++;
      // Drop directories left empty (a removed tool's folder, a removed server's folder).
      for (let d = dirname(join(root, path)); d.startsWith(`${root}/`); d = dirname(d)) {
        try {
          rmdirSync(d);
        } catch {
          break;
        }
      }
    };
    // Deleting can empty a directory a queued write is about to use: let the writes land first.
    const prune = async (owner: number, keep: Set<string>) => {
      const stale = state.filesOf(owner).filter((p) => !keep.has(p));
      if (!stale.length) return;
      await sink.flush();
      for (const p of stale) remove(p);
    };

    // 1. Servers: re-render only those whose own data or classifications changed.
    const fps = serverFingerprints(sqlite);
    const oldFps = state.fingerprints();
    const cls = classifiedSince(sqlite, force ? Number.MAX_SAFE_INTEGER : Number(state.meta("clsRowid") ?? 0));
    const touchedTokens = new Set<string>();
    // The global pages' index (every server's place in name order, fingerprints and counts) as the last build left it.
    const savedIndex = force ? undefined : state.blob(GLOBAL_INDEX);
    const changedRows = new Map<number, IndexRow>();
    const removedIds = new Set<number>();
    state.begin();
    // Until this build finishes, the manifest on disk says no build is complete. A build that stops part way (a full
    // disk, a kill after a checkpoint) has recorded servers as rendered whose search shards and global pages it never
    // reached, and only this build knew which; the next build then starts in full and repairs all of it.
    state.setMeta("version", "");
    for (const id of oldFps.keys()) {
      if (fps.has(id)) continue;
      removedIds.add(id);
      for (const t of state.tokensOf(id)) touchedTokens.add(t);
      await prune(id, new Set());
      state.deleteServer(id);
      res.serversRemoved++;
    }
    // Files of servers the manifest no longer knows (a full build starts from an empty server list).
    if (force)
      for (const owner of state.owners()) if (owner !== GLOBAL && !fps.has(owner)) await prune(owner, new Set());
    const dirty = [...fps].filter(([id, { fp }]) => force || oldFps.get(id) !== fp || cls.servers.has(id));
    res.serversSkipped = fps.size - dirty.length;
    // Servers are about to change: until this build saves the index again, none is kept, so a build that stops
    // half way leaves the next one to make it afresh from every server's summary.
    const dropIndex = savedIndex !== undefined && (dirty.length > 0 || removedIds.size > 0);
    if (dropIndex) state.setBlob(GLOBAL_INDEX, undefined);
    let done = 0;
    const handle = async (r: PreparedServer) => {
      indexServer(r);
      const fp = fps.get(r.id)?.fp;
      if (r.missing || !r.meta || !r.search || !r.summary || !r.ufp || fp === undefined) return;
      const before = force ? undefined : state.searchEntriesOf(r.id);
      const keep = new Set<string>(r.paths);
      if (force) {
        // Every page is written: the server's buffer goes to the writer thread whole.
        res.bytes += r.buf.byteLength; // read before the buffer is transferred away
        res.pagesWritten += r.paths.length;
        sink.commitBuffer(r.paths, r.ends, r.buf);
        for (const [i, path] of r.paths.entries()) state.putFileHash(path, r.hashes[i]!, r.id);
      } else {
        let start = 0;
        for (const [i, path] of r.paths.entries()) {
          const end = r.ends[i]!;
          writeBytes(path, r.hashes[i]!, r.buf.subarray(start, end), r.id);
          start = end;
        }
      }
      const search = r.search;
      if (before) {
        const after = entriesByToken(search.postings.map(([t, rk, d]) => [t, rk, search.docs[d]!] as const));
        for (const t of changedTokens(state, r.id, before, after, maxPostings)) touchedTokens.add(t);
      }
      // Before any wait: a write failure reported later must be able to mark this server stale.
      // The sitemaps show a server's page and its tools' pages: keyed by those paths (ufp), not by everything it shows.
      const ufp = r.ufp;
      const sfp = state.putServer(r.meta, fp, r.summary, search, ufp);
      if (!force) changedRows.set(r.id, rowOf(r.meta, sfp, ufp));
      await prune(r.id, keep);
      res.serversRendered++;
      await sink.room();
      if (++done % 500 === 0) {
        state.checkpoint();
        opts.onProgress?.({ phase: "servers", done, total: dirty.length });
      }
    };
    mark("detect");
    const workers = workerCount(opts, sqlite, dirty.length);
    if (workers > 0) {
      await renderInWorkers(
        dirty.map(([id]) => id),
        { dbPath: catalogFile(sqlite) as string, baseUrl: opts.baseUrl ?? "http://localhost:8080/", policy: !!policy },
        workers,
        handle,
      );
    } else {
      const stmts = prepareBundleStatements(sqlite);
      for (const [id] of dirty) {
        const bundle = loadServerBundle<ChangeEvent>(sqlite, id, stmts);
        if (!bundle) continue;
        const { files, meta, tools } = renderServerPages(
          ctx,
          bundle,
          policy?.(bundle.server, bundle.tools, bundle.probe),
        );
        await handle(prepareServer(id, files, meta, tools));
      }
    }
    opts.onProgress?.({ phase: "servers", done, total: dirty.length });
    state.setMeta("clsRowid", String(cls.maxRowid));

    if (force) state.endBulk();
    mark("servers");

    // The search shards to build: planned now, from what the servers phase stored, so that a build that rebuilds them
    // all (a full one) builds them in a thread of their own while this one renders the global pages below (each phase
    // kept one core busy, one after the other: 14-18 s each at 500k tools). The thread reads the postings as committed.
    const savedKeys = force ? undefined : state.meta("searchKeys");
    const keys = new Set<string>(
      savedKeys ? (JSON.parse(savedKeys) as string[]) : planShards(state.tokenSizes(), maxShardBytes),
    );
    const todo = new Set<string>(savedKeys ? [] : keys);
    for (const tok of touchedTokens) {
      let k = shardFor(tok, keys);
      if (!k) {
        k = newKeyFor(tok, keys);
        keys.add(k);
      }
      todo.add(k);
    }
    const todoSorted = [...todo].sort();
    if (!savedKeys && workers > 0 && todoSorted.length >= (opts.search?.threadMinShards ?? MIN_THREAD_SHARDS)) {
      state.checkpoint();
      shards = new ShardThread({ statePath, keys: todoSorted, maxPostings });
    }

    // 2. Global pages: each paged output is keyed by the slices of servers it shows; only changed keys render. Pages are
    // planned from the index (every server's place in name order, fingerprints, counts), kept in the manifest and
    // updated with the servers this build rendered or removed: a one-server change reads no other server's summary
    // (at 500k tools, reading, parsing and sorting 40,000 of them was 1-2 s of every rebuild). A full build, or a
    // manifest without the index, makes it from every summary.
    const metaCache = new Map<number, ServerMeta>();
    const stored = savedIndex === undefined ? undefined : GlobalIndex.parse(savedIndex);
    let ix: GlobalIndex;
    if (stored) ix = stored.update(changedRows, removedIds);
    else {
      ix = GlobalIndex.fromRows(
        state.metas().map((x) => {
          metaCache.set(x.meta.id, x.meta);
          return rowOf(x.meta, x.sfp, x.ufp);
        }),
      );
    }
    if (!stored || dropIndex) state.setBlob(GLOBAL_INDEX, ix.serialize());
    /** A server's summary, or undefined when the catalog no longer has it. */
    const findMeta = (id: number) => {
      let m = metaCache.get(id);
      if (!m) {
        m = state.metaOf(id);
        if (m) metaCache.set(id, m);
      }
      return m;
    };
    const metaOf = (id: number) => {
      const m = findMeta(id);
      if (!m) throw new Error(`the site's build state has no summary of server ${id}`);
      return m;
    };
    /** Every server's summary in name order (only llms-full.txt needs them all): read at once. */
    const allMetas = () => {
      if (metaCache.size < ix.length) for (const x of state.metas()) metaCache.set(x.meta.id, x.meta);
      return Array.from(ix.ids, (id) => metaOf(id));
    };
    // Each tool listing (category, risk), the sitemaps and llms-full walk all servers in name order: a cache smaller
    // than the catalog is emptied before a walk comes back to a server, so each walk re-read and re-parsed every
    // server's tools (at 500k tools: 40,000 servers, about 9 walks, with the old 5,000-server cap). Bounded by tools
    // instead: up to 600,000 tool summaries (a few hundred MB) stay for the whole phase.
    const cache = new Map<number, ToolSummary[]>();
    let cachedTools = 0;
    const toolsOf = (id: number) => {
      let l = cache.get(id);
      if (!l) {
        l = state.toolsOf(id);
        if (cachedTools + l.length > MAX_CACHED_TOOLS) {
          cache.clear();
          cachedTools = 0;
        }
        cache.set(id, l);
        cachedTools += l.length;
      }
      return l;
    };
    const expected = new Set<string>();
    const writeGlobal = (f: SiteFile) => {
      expected.add(f.path);
      write(f.path, f.content, GLOBAL);
    };
    const totals = totalsOf(ix);
    // "Recently changed" lists recorded changes (what changed, how severe), not every tool a first crawl found.
    const recent: RecentChange[] = (hasChanges(sqlite) ? listChanges(sqlite, { limit: RECENT_ROWS }).items : []).map(
      (c) => {
        const m = findMeta(c.serverId);
        const tl = m ? toolsOf(c.serverId).find((x) => x.n === c.toolName) : undefined;
        return { change: c, meta: m, tool: tl };
      },
    );
    for (const f of summaryFiles(ctx, totals, recent)) writeGlobal(f);
    // The catalog's feed is rewritten only when its bytes change (it has no timestamp of its own).
    writeGlobal({
      path: "/feed.xml",
      content: renderAtom(hasChanges(sqlite) ? listChanges(sqlite, { limit: FEED_ENTRIES }).items : [], {
        title: "mcp-census: changes in the catalog",
        since: catalogSince(sqlite),
        selfUrl: `${ctx.baseUrl}/feed.xml`,
        alternateUrl: `${ctx.baseUrl}/`,
        linkFor: (c) => {
          // Link to the tool's history when it still has a page, else its server's, else the home page.
          const m = findMeta(c.serverId);
          const tl = m ? toolsOf(c.serverId).find((x) => x.n === c.toolName) : undefined;
          const path = m ? (tl ? `${toolPath(m.slug, tl.s)}#hist-h` : serverPath(m.slug)) : "/";
          return `${ctx.baseUrl}${path}`;
        },
      }),
    });
    for (const a of ASSETS)
      writeGlobal({ path: `/assets/${a}`, content: readFileSync(new URL(`./assets/${a}`, import.meta.url), "utf8") });
    // Read once: thousands of paged outputs are checked against them (a query per page cost more than the check).
    const pageKeys = force ? new Map<string, string>() : state.pageKeys();
    const globalFiles = force ? new Set<string>() : new Set(state.filesOf(GLOBAL));
    const keyed = (path: string, key: string, paths: string[], render: () => SiteFile[]) => {
      for (const p of paths) expected.add(p);
      if (!force && pageKeys.get(path) === key && paths.every((p) => globalFiles.has(p))) {
        res.pagesUnchanged += paths.length;
        return;
      }
      for (const f of render()) writeGlobal(f);
      state.setPageKey(path, key);
    };
    const globalHtml = [...FIXED_PAGES];
    let g = 0;
    for (const l of listings(ctx, ix, totals, metaOf, toolsOf)) {
      const total = l.total;
      for (const plan of planPages(l.dim, l.segments, opts.pageSize ?? PAGE_SIZE, String(total))) {
        const path = pagePath(l.basePath, plan.name);
        globalHtml.push(path);
        keyed(path, plan.key, [`${path}index.html`, `${path}index.json`], () => renderListingPage(ctx, l, plan, total));
        // Keep the queued writes (and the page buffers they hold) bounded.
        await sink.room();
        if (++g % 200 === 0) opts.onProgress?.({ phase: "global", done: g, total: 0 });
      }
    }
    // Sitemaps: one of the site's own pages, and server and tool pages cut like the listings.
    const sitemaps = [GLOBAL_SITEMAP];
    writeGlobal(globalSitemap(ctx, globalHtml));
    const every = Int32Array.from({ length: ix.length }, (_, i) => i);
    const siteSegs = ix.segments(
      every,
      Int32Array.from(every, (i) => 1 + ix.toolCount(i)),
      "ufp",
    );
    for (const plan of planPages("sitemap", siteSegs, SITEMAP_URLS)) {
      const path = sitemapPath(plan.name);
      sitemaps.push(path);
      keyed(path, plan.key, [path], () => [sitemapPart(ctx, plan, metaOf, toolsOf)]);
      await sink.room();
    }
    writeGlobal(sitemapIndex(ctx, sitemaps));
    const llmsSegs = ix.segments(every, new Int32Array(ix.length).fill(1), "sfp");
    const llmsPlans = planPages("llms", llmsSegs, LLMS_CHUNK);
    // The index lists every server with its part: re-rendered only when what it shows of them changed.
    keyed("/llms-full.txt", llmsIndexKey(ix, totals, llmsPlans), ["/llms-full.txt"], () => [
      llmsFullIndex(ctx, allMetas(), totals, llmsPlans),
    ]);
    for (const plan of llmsPlans) {
      const path = llmsPartPath(plan.name);
      keyed(path, plan.key, [path], () => [llmsFullPart(ctx, plan, metaOf, toolsOf)]);
      await sink.room();
    }

    mark("global");

    // 3. Search: shards of the tokens that changed (all of them on a full build), split when they grow too big; on a
    // full build they were built alongside the global pages (above).
    let s = 0;
    const writeShard = (key: string) => {
      const shard = buildShard(state, key, maxPostings);
      res.searchShardsBuilt++;
      if (!Object.keys(shard.tokens).length) {
        keys.delete(key);
        return;
      }
      const content = `${JSON.stringify(shard)}\n`;
      if (savedKeys && !key.endsWith("-") && content.length > 2 * maxShardBytes) {
        const sub = planShards(state.tokenSizes(...keyRange(key)), maxShardBytes, key.length);
        if (sub.length > 1) {
          keys.delete(key);
          for (const k of sub) keys.add(k);
          for (const k of sub) writeShard(k);
          return;
        }
      }
      const before = res.bytes;
      write(`/search/s/${key}.json`, content, GLOBAL);
      res.searchBytes += res.bytes - before;
      if (++s % 500 === 0) opts.onProgress?.({ phase: "search", done: s, total: todo.size });
    };
    for (const key of todoSorted) {
      const built = await shards?.next(key);
      if (!built) writeShard(key);
      else {
        res.searchShardsBuilt++;
        res.searchShardsThreaded++;
        if (built.empty) keys.delete(key);
        else {
          res.searchBytes += built.bytes.length;
          writeBytes(`/search/s/${key}.json`, built.hash, built.bytes, GLOBAL);
          if (++s % 500 === 0) opts.onProgress?.({ phase: "search", done: s, total: todo.size });
        }
      }
      await sink.room();
    }
    await shards?.close();
    const sorted = [...keys].sort();
    for (const k of sorted) expected.add(`/search/s/${k}.json`);
    writeGlobal({ path: "/search/index.json", content: `${JSON.stringify({ v: 1, shards: sorted })}\n` });
    state.setMeta("searchKeys", JSON.stringify(sorted));
    res.searchShards = sorted.length;

    mark("search");
    await sink.flush();
    await prune(GLOBAL, expected);
    state.setMeta("version", version);
    state.commit();
    return res;
  } catch (caught) {
    // A full disk: fs errors name their file; a SQLite one here is the build manifest's (the catalog is only read).
    const sqlite = String((caught as { code?: unknown } | null)?.code ?? "").startsWith("SQLITE_");
    const err = storageError(caught, sqlite ? statePath : undefined) ?? caught;
    // Files already written are recorded; what failed (or may not have landed) is not, so the next build writes it.
    const unsure = await sink.settle();
    try {
      for (const p of unsure) state.forgetFile(p);
      state.commit();
    } catch {
      // The manifest cannot be saved either (same full disk): left as it was, the next build rewrites what differs.
    }
    throw err;
  } finally {
    await shards?.close();
    await sink.close();
    state.close();
    mark("finish");
  }
}

export type { PolicyProvider, ServerPolicy } from "./policy-view.js";
export type { ServerMeta };

/**
 * The tokens whose search lists a server's change can alter: those where what the server contributes (rank keys and
 * documents) differs, unless every one of its entries, before and after, ranks below the cut the other servers
 * already fill (a shard keeps a token's best maxPostings documents and whether there are more). A change to one
 * tool's description so touches that tool's tokens, not all of its server's, and not the very common ones it only
 * trails in.
 */
function changedTokens(
  state: SiteState<ServerMeta, ToolSummary>,
  id: number,
  before: Map<string, TokenEntries>,
  after: Map<string, TokenEntries>,
  maxPostings: number,
): string[] {
  const out: string[] = [];
  // Rank keys compared as SQLite orders them (bytes of UTF-8), not as JavaScript does (UTF-16 code units).
  const below = (rk: string, cut: Buffer) => Buffer.compare(Buffer.from(rk), cut) > 0;
  for (const tok of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(tok);
    const b = after.get(tok);
    if (a?.key === b?.key) continue;
    const cut = state.cutoffWithout(tok, id, maxPostings);
    if (cut !== undefined) {
      const c = Buffer.from(cut);
      if ([...(a?.ranks ?? []), ...(b?.ranks ?? [])].every((rk) => below(rk, c))) continue;
    }
    out.push(tok);
  }
  return out;
}
