import { hostname } from "node:os";
import { mapLimit } from "../core/concurrency.js";
import type { ResolvedConfig } from "../core/config.js";
import { AppError, oneLine } from "../core/errors.js";
import type { ProbeOutcome, ServerEntry } from "../core/types.js";
import { crawlSource, createAdapter, type SourceCrawlStats } from "../registries/index.js";
import type { Catalog, Sqlite } from "../store/db.js";
import { lastProbe, listServers, type ServerRow } from "../store/queries.js";
import {
  closeCrawlRun,
  markCrawlRunsInterrupted,
  openCrawlRun,
  runningCrawlRuns,
  runSourceErrors,
  withoutClassification,
} from "../store/runs.js";
import { finishCrawl } from "./finish.js";
import { createProgress, type Progress } from "./progress.js";
import {
  classifyStage,
  ingestServer,
  internalErrorResult,
  itemsOf,
  probeKey,
  probeOptionsFrom,
  probeStage,
  reusableListing,
  storeClassifications,
  type ToolClassifier,
} from "./stages.js";

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
  failures: { server: string; outcome: string; error: string }[];
  /** Entries or pages a source could not use (reason per item), as stored in source_errors. */
  sourceErrors: { source: string; error: string }[];
  policies?: { servers: number; files: number };
  webhooks?: { delivered: number; failed: number; pending: number };
  site?: { pagesWritten: number; pagesUnchanged: number; pagesDeleted: number };
  durationMs: number;
}

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
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
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
 * The main job in embedded mode: discover servers from sources, probe each (bounded concurrency), ingest the
 * listings and record their changes, classify new definitions, then write policies and the site.
 */
export async function runCrawl(
  cat: Catalog,
  config: ResolvedConfig,
  classifier: ToolClassifier & { version: string },
  opts: CrawlOptions = {},
  progress: Progress = createProgress(process.stderr),
): Promise<CrawlSummary> {
  const t0 = Date.now();
  const { sqlite } = cat;
  markDeadRunsInterrupted(sqlite);
  const runId = openCrawlRun(sqlite, "embedded", { owner: { host: hostname(), pid: process.pid } });
  const summary: CrawlSummary = {
    runId,
    sources: {},
    servers: 0,
    probed: 0,
    reused: 0,
    outcomes: {},
    tools: 0,
    toolsChanged: 0,
    toolsAdded: 0,
    toolsRemoved: 0,
    newVersions: 0,
    classified: 0,
    changes: 0,
    failures: [],
    sourceErrors: [],
    durationMs: 0,
  };
  try {
    const sources = opts.sources ?? [{ id: "seed", path: config.seedsDir }];
    for (const s of sources) {
      const adapter = createAdapter(s.id, { baseUrl: s.baseUrl, path: s.path, apiKey: s.apiKey });
      progress.log(`discovering servers from ${s.id}${s.baseUrl ? ` at ${s.baseUrl}` : ""}`);
      const stats = await crawlSource(sqlite, adapter, {
        runId,
        maxPages: opts.maxPages,
        incremental: s.incremental,
      });
      summary.sources[s.id] = stats;
      // Bad local input (a broken seed file) stops the run before any server is touched; a remote source's
      // failure is recorded and the other sources and servers still go on.
      if (stats.error?.code === "bad_input") throw new AppError("bad_input", stats.error.message);
    }
    summary.sourceErrors = runSourceErrors(sqlite, runId);
    let servers = listServers(sqlite).filter((s) => s.status === "active" || s.status === "deprecated");
    if (opts.only?.length) {
      const want = new Set(opts.only);
      servers = servers.filter((s) => want.has(s.name) || want.has(s.slug));
    }
    summary.servers = servers.length;

    if (opts.probe !== false) {
      const probeOpts = probeOptionsFrom(config);
      const maxAgeMs = opts.reprobe ? 0 : config.reprobeAfterHours * 3_600_000;
      progress.start("probing", servers.length);
      await mapLimit(servers, config.concurrency, async (server) => {
        const entry = entryOf(server);
        const last = maxAgeMs > 0 ? lastProbe(sqlite, server.id) : undefined;
        const reuse = reusableListing(last, entry, probeKey(entry, probeOpts), maxAgeMs);
        if (reuse && last) {
          summary.reused = (summary.reused ?? 0) + 1;
          summary.tools += last.toolCount;
          progress.tick(true, `${server.name}: ${reuse}, ${last.toolCount} tools`);
          return;
        }
        let probed: Awaited<ReturnType<typeof probeStage>>;
        try {
          probed = await probeStage(entry, probeOpts);
        } catch (err) {
          // probe() resolves with an outcome for server misbehaviour; a throw here is our own bug, kept per server.
          probed = internalErrorResult(err);
        }
        // A listing that cannot be stored is this server's outcome, never the crawl's.
        const { ingest, result, changes } = ingestServer(sqlite, server.id, probed);
        summary.probed++;
        summary.changes += changes.length;
        summary.outcomes[result.outcome] = (summary.outcomes[result.outcome] ?? 0) + 1;
        if (result.outcome === "ok") {
          const todo = withoutClassification(sqlite, itemsOf(server.name, result), classifier.version);
          const done = await classifyStage(todo, classifier);
          storeClassifications(sqlite, done);
          summary.classified += done.length;
          summary.tools += result.tools.length;
          summary.toolsAdded += ingest.added.length;
          summary.toolsRemoved += ingest.removed.length;
          summary.toolsChanged += ingest.changed.length;
          summary.newVersions += ingest.newVersions;
        } else {
          summary.failures.push({ server: server.name, outcome: result.outcome, error: result.error ?? "" });
        }
        const note =
          result.outcome === "ok"
            ? `${server.name}: ok, ${result.tools.length} tools (${Math.round(result.durationMs)} ms)`
            : `${server.name}: ${result.outcome}${result.error ? ` — ${oneLine(result.error).slice(0, 200)}` : ""}`;
        progress.tick(result.outcome === "ok", note);
      });
      progress.finish();
    }

    const fin = await finishCrawl(sqlite, config, classifier, { outputs: opts.outputs });
    summary.classified += fin.classified;
    if (fin.webhooks) summary.webhooks = fin.webhooks;
    if (fin.policies) summary.policies = fin.policies;
    if (fin.site) summary.site = fin.site;
    summary.durationMs = Date.now() - t0;
    closeCrawlRun(sqlite, runId, "done", { ...summary });
    return summary;
  } catch (err) {
    closeCrawlRun(sqlite, runId, "failed", { ...summary, error: oneLine(err) });
    throw err;
  }
}

/** The one-paragraph report a person reads after a crawl. */
export function formatSummary(s: CrawlSummary): string {
  const outcomes = Object.entries(s.outcomes)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const changed = s.toolsAdded + s.toolsRemoved + s.toolsChanged;
  const lines = [
    `crawl #${s.runId}: ${s.servers} servers, ${s.probed} probed (${outcomes || "none"})${s.reused ? `, ${s.reused} unchanged (last listing reused; --reprobe to relaunch)` : ""}, ${s.tools} tools listed`,
    `${changed} changed (${s.toolsAdded} added, ${s.toolsChanged} modified, ${s.toolsRemoved} removed), ${s.newVersions} new tool versions, ${s.classified} classified`,
  ];
  for (const e of s.sourceErrors.slice(0, 20)) lines.push(`  source ${e.source}: ${e.error.slice(0, 200)}`);
  if (s.sourceErrors.length > 20)
    lines.push(`  … and ${s.sourceErrors.length - 20} more source errors (see source_errors)`);
  for (const f of s.failures)
    lines.push(`  ${f.server}: ${f.outcome}${f.error ? ` — ${oneLine(f.error).slice(0, 160)}` : ""}`);
  if (s.changes) lines.push(`${s.changes} change events recorded (see \`mcp-census changes\`)`);
  if (s.webhooks)
    lines.push(
      `webhooks: ${s.webhooks.delivered} delivered, ${s.webhooks.failed} failed, ${s.webhooks.pending} pending`,
    );
  if (s.policies) lines.push(`policies: ${s.policies.files} files for ${s.policies.servers} servers`);
  if (s.site)
    lines.push(
      `site: ${s.site.pagesWritten} pages written, ${s.site.pagesUnchanged} unchanged, ${s.site.pagesDeleted} deleted`,
    );
  lines.push(`done in ${(s.durationMs / 1000).toFixed(1)} s`);
  return lines.join("\n");
}
