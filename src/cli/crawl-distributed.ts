import type { Command } from "commander";
import type { ResolvedConfig } from "../core/config.js";
import { AppError, oneLine } from "../core/errors.js";
import { forTerminal } from "../core/terminal.js";
import { type IngestConsumer, ingestOwner, startIngestConsumer } from "../jobs/ingest-consumer.js";
import { enqueueCrawl } from "../jobs/producers.js";
import { formatProgress, watchRun } from "../jobs/progress.js";
import { closeQueues, createRedis, openQueues } from "../jobs/queues.js";
import { redisEpoch } from "../jobs/run-state.js";
import type { CrawlJob } from "../jobs/schemas.js";
import { createCatalogClassifier } from "../pipeline/classifier.js";
import { formatSummary } from "../pipeline/crawl.js";
import { openCatalog } from "../store/db.js";
import { type GlobalOptions, wantsJson } from "./common.js";

/** The subset of `crawl`'s flags the distributed mode reads. */
export interface DistributedCrawlFlags {
  source?: string[];
  registryUrl?: string;
  registryPath?: string;
  apiKey?: string;
  incremental?: boolean;
  probe?: boolean;
  outputs?: boolean;
  only?: string[];
  reprobe?: boolean;
  maxPages?: string;
  llm?: boolean;
}

/** The crawl job a set of `crawl` flags asks for. */
export function crawlJobFrom(config: ResolvedConfig, flags: DistributedCrawlFlags): CrawlJob {
  const ids = flags.source ?? ["seed"];
  return {
    sources: ids.map((id) => {
      const path = flags.registryPath ?? (id === "seed" ? config.seedsDir : undefined);
      return {
        id,
        ...(flags.registryUrl ? { baseUrl: flags.registryUrl } : {}),
        ...(path ? { path } : {}),
        ...(flags.incremental ? { incremental: true } : {}),
      };
    }),
    ...(flags.probe === false ? { probe: false } : {}),
    ...(flags.outputs === false ? { outputs: false } : {}),
    ...(flags.only?.length ? { only: flags.only } : {}),
    ...(flags.reprobe ? { reprobe: true } : {}),
    ...(flags.maxPages ? { maxPages: Number(flags.maxPages) } : {}),
  };
}

/**
 * `crawl --distributed` (or REDIS_URL set): enqueues the run and shows live progress from the queues until the
 * ingest consumer marks it done. When no ingest consumer holds the catalog, this process becomes it for the run.
 * Probe and classify work happens on `mcp-census worker` processes (any machine).
 */
export async function runDistributedCrawl(cmd: Command, config: ResolvedConfig, rawFlags: unknown): Promise<void> {
  const flags = rawFlags as DistributedCrawlFlags;
  if (!config.redisUrl) {
    throw new AppError("config_invalid", "--distributed needs Redis: set REDIS_URL (or redisUrl in the config)");
  }
  const g = cmd.optsWithGlobals() as GlobalOptions;
  const quiet = !!g.quiet || wantsJson(cmd);
  const say = (l: string) => {
    if (!quiet) process.stderr.write(`${forTerminal(l)}\n`);
  };
  if (flags.apiKey) say("note: --api-key is not sent through Redis; the ingest consumer uses its own configuration");
  const redis = createRedis(config.redisUrl, `mcp-census-crawl-${process.pid}`, (err) =>
    say(`redis: ${oneLine(err)} (reconnecting)`),
  );
  const queues = openQueues(redis, config.queuePrefix);
  let ingest: IngestConsumer | undefined;
  let closeCatalog: (() => void) | undefined;
  const stopWatching = new AbortController();
  const onSignal = () => stopWatching.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const owner = await ingestOwner(redis, config.queuePrefix);
    if (owner) {
      say(`the catalog is written by the ingest consumer ${owner}`);
    } else {
      const cat = openCatalog(config.dbPath);
      closeCatalog = () => cat.close();
      ingest = await startIngestConsumer({
        connection: redis,
        prefix: config.queuePrefix,
        sqlite: cat.sqlite,
        config,
        classifier: createCatalogClassifier(cat.sqlite, config, { llm: flags.llm }),
        queues,
        log: say,
      });
      say(`this process writes the catalog ${config.dbPath} for the run`);
    }
    if ((await queues.probe.getWorkersCount()) === 0) {
      say("no probe workers are connected yet: start `mcp-census worker` on any machine (the run waits for them)");
    }
    // Read before the run exists: if Redis loses its data later, the marker is gone and the watch below stops.
    const epoch = await redisEpoch(redis, config.queuePrefix);
    const runKey = await enqueueCrawl(queues.ingest, crawlJobFrom(config, flags));
    say(`crawl run ${runKey} enqueued`);
    const tty = !!process.stderr.isTTY;
    let lastPlain = 0;
    const summary = await watchRun(
      redis,
      config.queuePrefix,
      runKey,
      queues,
      (info, counts) => {
        if (quiet) return;
        const line = forTerminal(formatProgress(info, counts));
        if (tty) process.stderr.write(`\r\x1b[K${line}`);
        else if (Date.now() - lastPlain > 5_000) {
          lastPlain = Date.now();
          process.stderr.write(`${line}\n`);
        }
      },
      500,
      stopWatching.signal,
      epoch,
    ).catch(async (err: unknown) => {
      // This process writes the catalog: its row for the lost run must not stay `running`.
      await ingest?.checkRedisData().catch(() => false);
      if (tty && !quiet) process.stderr.write("\n");
      throw err;
    });
    if (tty && !quiet) process.stderr.write("\n");
    if (wantsJson(cmd)) process.stdout.write(`${JSON.stringify({ runKey, ...summary }, null, 2)}\n`);
    else if (!g.quiet) process.stdout.write(`${forTerminal(formatSummary(summary))}\n`);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await ingest?.close();
    await closeQueues(queues);
    await redis.quit().catch(() => redis.disconnect());
    closeCatalog?.();
  }
}
