import { mkdirSync, readFileSync, rmdirSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type Database from "better-sqlite3";
import { loadServerBundle, prepareBundleStatements, serverFingerprints } from "./data.js";
import { globalFiles } from "./global-pages.js";
import { siteCtx } from "./layout.js";
import { type PolicyProvider, policyProvider } from "./policy-view.js";
import { buildSearchIndex, type SearchIndexOpts } from "./search-index.js";
import { renderServerPages, type ServerSummary } from "./server-pages.js";
import { hashContent, SiteState } from "./state.js";

/** Bump when templates change so every page is re-rendered once. */
export const SITE_VERSION = "site-1";

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
  searchShards: number;
  searchBytes: number;
  policies: boolean;
}

const ASSETS = ["site.css", "copy.js", "search.js"];
const GLOBAL = 0;

/** Builds (or incrementally updates) the static site for the catalog into outDir. */
export async function buildSite(
  sqlite: Database.Database,
  outDir: string,
  opts: BuildSiteOpts = {},
): Promise<BuildSiteResult> {
  const root = resolve(outDir);
  const ctx = siteCtx(opts.baseUrl ?? "http://localhost:8080/");
  const policy = opts.policy === undefined ? policyProvider() : (opts.policy ?? undefined);
  mkdirSync(root, { recursive: true });
  const state = new SiteState(opts.statePath ?? `${root}.state.db`);
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
    policies: !!policy,
  };
  try {
    const version = `${SITE_VERSION}|${ctx.baseUrl}|${policy ? "policy" : "no-policy"}`;
    const force = !!opts.full || state.meta("version") !== version;
    const dirs = new Set<string>();
    const write = (path: string, content: string, owner: number) => {
      const h = hashContent(content);
      if (!force && state.fileHash(path) === h) {
        res.pagesUnchanged++;
        return;
      }
      const full = join(root, path);
      const dir = dirname(full);
      if (!dirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        dirs.add(dir);
      }
      writeFileSync(full, content);
      state.putFileHash(path, h, owner);
      res.pagesWritten++;
      res.bytes += Buffer.byteLength(content);
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
          dirs.delete(d);
        } catch {
          break;
        }
      }
    };
    const prune = (owner: number, keep: Set<string>) => {
      for (const p of state.filesOf(owner)) if (!keep.has(p)) remove(p);
    };

    const fps = serverFingerprints(sqlite);
    const oldFps = state.fingerprints();
    const summaries = force ? new Map<number, ServerSummary>() : state.summaries();
    state.db.exec("BEGIN");
    for (const id of oldFps.keys()) {
      if (fps.has(id)) continue;
      prune(id, new Set());
      state.deleteServer(id);
      summaries.delete(id);
      res.serversRemoved++;
    }
    const stmts = prepareBundleStatements(sqlite);
    let done = 0;
    for (const [id, { fp }] of fps) {
      if (!force && oldFps.get(id) === fp && summaries.has(id)) {
        res.serversSkipped++;
      } else {
        const bundle = loadServerBundle(sqlite, id, stmts);
        if (bundle) {
          const { files, summary } = renderServerPages(ctx, bundle, policy?.(bundle.server, bundle.tools));
          const keep = new Set<string>();
          for (const f of files) {
            write(f.path, f.content, id);
            keep.add(f.path);
          }
          prune(id, keep);
          state.putServer(id, bundle.server.slug, fp, summary);
          summaries.set(id, summary);
          res.serversRendered++;
        }
      }
      if (++done % 500 === 0) {
        state.db.exec("COMMIT; BEGIN");
        opts.onProgress?.({ phase: "servers", done, total: fps.size });
      }
    }
    opts.onProgress?.({ phase: "servers", done, total: fps.size });

    const ordered = [...summaries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
    const keep = new Set<string>();
    let g = 0;
    for (const f of globalFiles(ctx, ordered)) {
      write(f.path, f.content, GLOBAL);
      keep.add(f.path);
      if (++g % 1000 === 0) opts.onProgress?.({ phase: "global", done: g, total: 0 });
    }
    for (const a of ASSETS) {
      write(`/assets/${a}`, readFileSync(new URL(`./assets/${a}`, import.meta.url), "utf8"), GLOBAL);
      keep.add(`/assets/${a}`);
    }
    const index = buildSearchIndex(ordered, opts.search);
    const manifest = `${JSON.stringify(index.manifest)}\n`;
    write("/search/index.json", manifest, GLOBAL);
    keep.add("/search/index.json");
    res.searchBytes += manifest.length;
    for (const [i, s] of index.shards.entries()) {
      const content = `${JSON.stringify({ key: s.key, docs: s.docs, tokens: s.tokens, capped: s.capped })}\n`;
      const path = `/search/s/${s.key}.json`;
      write(path, content, GLOBAL);
      keep.add(path);
      res.searchBytes += Buffer.byteLength(content);
      if (i % 500 === 0) opts.onProgress?.({ phase: "search", done: i, total: index.shards.length });
    }
    res.searchShards = index.shards.length;
    prune(GLOBAL, keep);
    state.setMeta("version", version);
    state.db.exec("COMMIT");
    return res;
  } catch (err) {
    if (state.db.inTransaction) state.db.exec("COMMIT");
    throw err;
  } finally {
    state.close();
  }
}

export type { PolicyProvider, ServerPolicy } from "./policy-view.js";
