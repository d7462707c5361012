import { mapLimit } from "../core/concurrency.js";
import type { ResolvedConfig } from "../core/config.js";
import { oneLine } from "../core/errors.js";
import { plural } from "../core/text.js";
import type { Catalog } from "../store/db.js";
import { lastProbe } from "../store/queries.js";
import { createProgress, type Progress } from "./progress.js";
import {
  type CrawlOptions,
  type CrawlSummary,
  completeServer,
  countServer,
  discover,
  endRun,
  entryOf,
  failRun,
  type RunCounters,
  type ServerFailure,
  serversToProbe,
  startRun,
  storeProbe,
  summaryOf,
} from "./run.js";
import {
  classifyStage,
  internalErrorResult,
  probeKey,
  probeOptionsFrom,
  probeStage,
  reusableListing,
  type ToolClassifier,
} from "./stages.js";

export type { CrawlOptions, CrawlSummary } from "./run.js";
export { entryOf } from "./run.js";

/**
 * The embedded runner of the crawl's orchestration (pipeline/run.ts): discover servers from sources, probe each
 * (bounded concurrency), store the listings with their change events, classify new definitions, then write policies
 * and the site — all in this process.
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
  const runId = startRun(sqlite, "embedded");
  const counters: RunCounters = {};
  const failures: ServerFailure[] = [];
  let sources: CrawlSummary["sources"] = {};
  try {
    sources = await discover(sqlite, config, runId, opts, { log: (line) => progress.log(line) });
    const servers = serversToProbe(sqlite, opts.only);
    counters.servers = servers.length;

    if (opts.probe !== false) {
      const probeOpts = probeOptionsFrom(config);
      const maxAgeMs = opts.reprobe ? 0 : config.reprobeAfterHours * 3_600_000;
      progress.start("probing", servers.length);
      await mapLimit(servers, config.concurrency, async (server) => {
        const entry = entryOf(server);
        const last = maxAgeMs > 0 ? lastProbe(sqlite, server.id) : undefined;
        const reuse = reusableListing(last, entry, probeKey(entry, probeOpts), maxAgeMs);
        if (reuse && last) {
          counters.reused = (counters.reused ?? 0) + 1;
          counters.tools = (counters.tools ?? 0) + last.toolCount;
          progress.tick(true, `${server.name}: ${reuse}, ${plural(last.toolCount, "tool")}`);
          return;
        }
        let probed: Awaited<ReturnType<typeof probeStage>>;
        try {
          probed = await probeStage(entry, probeOpts);
        } catch (err) {
          // probe() resolves with an outcome for server misbehaviour; a throw here is our own bug, kept per server.
          probed = internalErrorResult(err);
        }
        const stored = storeProbe(sqlite, server, probed, classifier.version);
        const { result, tally } = stored;
        if (stored.failure) failures.push(stored.failure);
        else {
          const done = await classifyStage(stored.todo, classifier);
          tally.classified = done.length;
          completeServer(sqlite, done);
        }
        countServer(counters, tally);
        const note =
          result.outcome === "ok"
            ? `${server.name}: ok, ${plural(result.tools.length, "tool")} (${Math.round(result.durationMs)} ms)`
            : `${server.name}: ${result.outcome}${result.error ? ` — ${oneLine(result.error).slice(0, 200)}` : ""}`;
        progress.tick(result.outcome === "ok", note);
      });
      progress.finish();
    }

    return await endRun(sqlite, config, classifier, runId, { outputs: opts.outputs, t0 }, async () => ({
      counters,
      failures,
      sources,
    }));
  } catch (err) {
    failRun(sqlite, runId, summaryOf({ runId, counters, failures, sources, durationMs: Date.now() - t0 }), err);
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
