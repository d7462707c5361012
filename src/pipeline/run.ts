import { hostname } from "node:os";
import { processAlive } from "../core/concurrency.js";
import type { ResolvedConfig } from "../core/config.js";
import { AppError, oneLine } from "../core/errors.js";
import type { Classification, ProbeOutcome, ProbeResult, ServerEntry } from "../core/types.js";
import { crawlSource, createAdapter, type SourceCrawlStats } from "../registries/index.js";
import type { IngestResult } from "../store/catalog.js";
import type { Sqlite } from "../store/db.js";
import { listServers, type ServerRow } from "../store/queries.js";
import {
  type CrawlMode,
  closeCrawlRun,
  markCrawlRunsInterrupted,
  openCrawlRun,
  runningCrawlRuns,
  runSourceErrors,
  withoutClassification,
} from "../store/runs.js";
import { type FinishResult, finishCrawl } from "./finish.js";
import { type ClassifyItem, ingestServer, itemsOf, storeClassifications, type ToolClassifier } from "./stages.js";

/*
 * The crawl's orchestration, written once: open the run, discover from each source (bad local input stops the run),
 * choose the servers, store each server's probe as that server's outcome, complete it after classification, count,
 * finish and close the run. Two runners drive it: the embedded crawl (pipeline/crawl.ts, one process, a bounded
 * loop) and the distributed one (jobs/ingest-consumer.ts, the same steps as queue jobs, counters in Redis). The
 * runners own only how the work moves: in memory, or through queues.
 */

/** What a crawl is asked to do (the same in both modes). */
export interface CrawlOptions {
  /** Sources to discover from; default: the bundled seed registry. */
  sources?: { id: string; baseUrl?: string; path?: string; apiKey?: string; incremental?: boolean }[];
  /** Connect to servers and list their tools (default true). */
  probe?: boolean;
  /** Only probe servers whose name or slug is in this list. */
  only?: string[];
  /** Write policies and the site after the crawl (default true). */
  outputs?: boolean;
  maxPages?: number;
  /** Probe every server even when its last listing could be reused (see reusableListing). */
  reprobe?: boolean;
}

export interface CrawlSummary {
  runId: number;
  sources: Record<string, SourceCrawlStats>;
  servers: number;
  probed: number;
  /** Servers not relaunched: their last listing stands (pinned package, same launch, same probe, recent). */
  reused?: number;
  outcomes: Partial<Record<ProbeOutcome, number>>;
  tools: number;
  toolsChanged: number;
  toolsAdded: number;
  toolsRemoved: number;
  newVersions: number;
  classified: number;
  changes: number;
  failures: ServerFailure[];
  /** Entries or pages a source could not use (reason per item), as stored in source_errors. */
  sourceErrors: { source: string; error: string }[];
  policies?: { servers: number; files: number };
  webhooks?: { delivered: number; failed: number; pending: number };
  site?: { pagesWritten: number; pagesUnchanged: number; pagesDeleted: number };
  durationMs: number;
}

/** A server whose probe did not list tools, with why. */
export interface ServerFailure {
  server: string;
  outcome: string;
  error: string;
}

/** What one server adds to the run's figures (counted once per server, however often a job reports it). */
export interface ServerTally {
  outcome: ProbeOutcome;
  tools: number;
  added: number;
  removed: number;
  changed: number;
  newVersions: number;
  classified?: number;
  changes?: number;
}

/**
 * A run's counters by name: `servers`, `probed`, `outcome.<outcome>`, and each numeric ServerTally field. The
 * embedded runner keeps them in memory, the distributed one in Redis (jobs/run-state.ts), under these same names.
 */
export type RunCounters = Record<string, number>;

/** Rebuilds a ServerEntry from a catalog row (the probe stage's input). */
export function entryOf(s: ServerRow): ServerEntry {
  return {
    name: s.name,
    title: s.title ?? undefined,
    description: s.description ?? undefined,
    version: s.version ?? undefined,
    repository: s.repositoryUrl ? { url: s.repositoryUrl } : undefined,
    packages: s.packages as ServerEntry["packages"],
    remotes: s.remotes as ServerEntry["remotes"],
  };
}

/** Whether the process that opened a run may still be alive: yes for another host (we cannot see it), no for a row without an owner. */
function ownerAlive(stats: unknown): boolean {
  const owner = (stats as { owner?: { host?: unknown; pid?: unknown } } | null)?.owner;
  if (!owner || typeof owner.pid !== "number") return false;
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  return processAlive(owner.pid);
}

/**
 * Embedded runs left `running` by a process that is gone (killed with -9, power loss) are marked `interrupted` when
 * the next crawl starts, so `running` means running. A run opened on another host is left alone (we cannot see its
 * process); a reused pid can keep a dead run `running` until that process ends.
 */
function markDeadRunsInterrupted(sqlite: Sqlite): void {
  const dead = runningCrawlRuns(sqlite, "embedded")
    .filter((r) => !ownerAlive(r.stats))
    .map((r) => r.id);
  markCrawlRunsInterrupted(sqlite, dead, "the crawl process ended without finishing the run (killed or crashed)");
}

/**
 * Opens the run's crawl_runs row. An embedded run records its host and pid, and first marks earlier embedded runs
 * whose process is gone as interrupted.
 */
export function startRun(sqlite: Sqlite, mode: CrawlMode, stats: Record<string, unknown> = {}, startedAt?: string) {
  if (mode === "embedded") {
    markDeadRunsInterrupted(sqlite);
    return openCrawlRun(sqlite, mode, { ...stats, owner: { host: hostname(), pid: process.pid } }, startedAt);
  }
  return openCrawlRun(sqlite, mode, stats, startedAt);
}

/** Closes the run's crawl_runs row as failed, with its figures so far and the one-line reason. */
export function failRun(sqlite: Sqlite, runId: number, soFar: object, err: unknown): void {
  closeCrawlRun(sqlite, runId, "failed", { ...soFar, error: oneLine(err) });
}

/**
 * Discovery: each source in turn into the catalog. Bad local input (a broken seed file) stops the run before any
 * server is touched: this throws AppError bad_input after the source's stats are reported. A remote source's failure
 * is recorded (source_errors, its stats) and the other sources still go on.
 */
export async function discover(
  sqlite: Sqlite,
  config: ResolvedConfig,
  runId: number,
  opts: Pick<CrawlOptions, "sources" | "maxPages">,
  hooks: { log?(line: string): void; onSource?(id: string, stats: SourceCrawlStats): void | Promise<void> } = {},
): Promise<Record<string, SourceCrawlStats>> {
  const out: Record<string, SourceCrawlStats> = {};
  for (const s of opts.sources ?? [{ id: "seed", path: config.seedsDir }]) {
    const adapter = createAdapter(s.id, { baseUrl: s.baseUrl, path: s.path, apiKey: s.apiKey });
    hooks.log?.(`discovering servers from ${s.id}${s.baseUrl ? ` at ${s.baseUrl}` : ""}`);
    const stats = await crawlSource(sqlite, adapter, { runId, maxPages: opts.maxPages, incremental: s.incremental });
    out[s.id] = stats;
    await hooks.onSource?.(s.id, stats);
    if (stats.error?.code === "bad_input") throw new AppError("bad_input", stats.error.message);
  }
  return out;
}

/** The servers a run probes: active or deprecated ones, narrowed to `only` (names or slugs) when given. */
export function serversToProbe(sqlite: Sqlite, only?: string[]): ServerRow[] {
  const servers = listServers(sqlite).filter((s) => s.status === "active" || s.status === "deprecated");
  if (!only?.length) return servers;
  const want = new Set(only);
  return servers.filter((s) => want.has(s.name) || want.has(s.slug));
}

/** One server's probe stored: its figures, why it failed (if it did), and what is left to classify. */
export interface StoredProbe {
  ingest: IngestResult;
  result: ProbeResult;
  tally: ServerTally;
  failure?: ServerFailure;
  /** Definitions this classifier version has not classified yet (empty when the probe failed). */
  todo: ClassifyItem[];
}

/**
 * Stores one server's probe, its listing and the change events it causes, in one transaction. A listing that cannot
 * be stored is this server's outcome, never the run's (see ingestServer). After this, an ok server's `todo` still
 * needs classifying (completeServer stores the classifications).
 */
export function storeProbe(
  sqlite: Sqlite,
  server: { id: number; name: string },
  probed: ProbeResult,
  classifierVersion: string,
): StoredProbe {
  const { ingest, result, changes } = ingestServer(sqlite, server.id, probed);
  const ok = result.outcome === "ok";
  const tally: ServerTally = {
    outcome: result.outcome,
    tools: ok ? result.tools.length : 0,
    added: ingest.added.length,
    removed: ingest.removed.length,
    changed: ingest.changed.length,
    newVersions: ingest.newVersions,
    changes: changes.length,
  };
  if (!ok) {
    return {
      ingest,
      result,
      tally,
      failure: { server: server.name, outcome: result.outcome, error: result.error ?? "" },
      todo: [],
    };
  }
  return {
    ingest,
    result,
    tally,
    todo: withoutClassification(sqlite, itemsOf(server.name, result), classifierVersion),
  };
}

/**
 * Completes one server after classification: stores its new classifications. Its change events were recorded with
 * the listing (storeProbe), before classification, which can take minutes while the process may die.
 */
export function completeServer(sqlite: Sqlite, classified: { hash: string; classification: Classification }[]): void {
  if (classified.length) storeClassifications(sqlite, classified);
}

/** Adds one server's figures to in-memory counters (the distributed runner adds the same names in Redis). */
export function countServer(counters: RunCounters, tally: Partial<ServerTally>): void {
  const add = (k: string, n: number) => {
    if (n) counters[k] = (counters[k] ?? 0) + n;
  };
  add("probed", 1);
  if (tally.outcome) add(`outcome.${tally.outcome}`, 1);
  for (const [k, v] of Object.entries(tally)) if (typeof v === "number") add(k, v);
}

/** The run's figures as the runner kept them. */
export interface RunFigures {
  counters: RunCounters;
  failures: ServerFailure[];
  sources: Record<string, SourceCrawlStats>;
}

/** The run's summary from its figures, the sources' recorded errors and the end-of-run work. */
export function summaryOf(
  run: RunFigures & { runId: number; durationMs: number },
  sourceErrors: CrawlSummary["sourceErrors"] = [],
  fin?: FinishResult,
): CrawlSummary {
  const c = run.counters;
  const outcomes: CrawlSummary["outcomes"] = {};
  for (const [k, v] of Object.entries(c))
    if (k.startsWith("outcome.")) outcomes[k.slice(8) as keyof typeof outcomes] = v;
  return {
    runId: run.runId,
    sources: run.sources,
    servers: c.servers ?? 0,
    probed: c.probed ?? 0,
    reused: c.reused ?? 0,
    outcomes,
    tools: c.tools ?? 0,
    toolsChanged: c.changed ?? 0,
    toolsAdded: c.added ?? 0,
    toolsRemoved: c.removed ?? 0,
    newVersions: c.newVersions ?? 0,
    classified: (c.classified ?? 0) + (fin?.classified ?? 0),
    changes: c.changes ?? 0,
    failures: run.failures,
    sourceErrors,
    ...(fin?.webhooks ? { webhooks: fin.webhooks } : {}),
    ...(fin?.policies ? { policies: fin.policies } : {}),
    ...(fin?.site ? { site: fin.site } : {}),
    durationMs: run.durationMs,
  };
}

/**
 * Ends a run: the end-of-run steps (catch-up classification, webhooks, policies, site), then the summary, stored in
 * the run's crawl_runs row as done. `figures` is read after the end-of-run steps (the distributed runner reads its
 * counters from Redis then).
 */
export async function endRun(
  sqlite: Sqlite,
  config: ResolvedConfig,
  classifier: ToolClassifier & { version: string },
  runId: number,
  opts: { outputs?: boolean; t0?: number; extraStats?: Record<string, unknown> },
  figures: () => Promise<RunFigures>,
): Promise<CrawlSummary> {
  const fin = await finishCrawl(sqlite, config, classifier, { outputs: opts.outputs });
  const f = await figures();
  const durationMs = opts.t0 ? Date.now() - opts.t0 : 0;
  const summary = summaryOf({ ...f, runId, durationMs }, runSourceErrors(sqlite, runId), fin);
  closeCrawlRun(sqlite, runId, "done", { ...summary, ...opts.extraStats });
  return summary;
}
