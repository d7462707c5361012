import type { ResolvedConfig } from "../core/config.js";
import { AppError, oneLine } from "../core/errors.js";
import { logger } from "../core/log.js";
import type { ProbeResult, ServerEntry } from "../core/types.js";
import { createCatalogClassifier } from "../pipeline/classifier.js";
import { probeOptionsFrom, probeStage } from "../pipeline/stages.js";
import { openCatalog } from "../store/db.js";
import { workerClassifier } from "./classifier.js";
import { type IngestConsumer, startIngestConsumer } from "./ingest-consumer.js";
import { closeQueues, createRedis, openQueues, type QueueName, type StageQueue, type WorkerTuning } from "./queues.js";
import { type StageWorkers, startStageWorkers } from "./stage-workers.js";
import { startStatusServer } from "./status.js";

export interface WorkerProcessOptions {
  /** Stages to work on; `ingest` makes this process the catalog writer (it opens the database). */
  queues: QueueName[];
  /** Probe jobs at once (default config.concurrency). */
  concurrency?: number;
  /** Classify jobs at once (default 4). */
  classifyConcurrency?: number;
  /** Classify jobs per minute across all workers (the LLM quota); unset: no cap besides 429s. */
  llmPerMinute?: number;
  llm?: boolean;
  tuning?: WorkerTuning;
  /** Replaces the probe stage (test fixtures inject faults around the real one). */
  probe?: (entry: ServerEntry) => Promise<ProbeResult>;
  log?: (line: string) => void;
  /** Resolves the returned promise's `stopped` when aborted, like a signal would. */
  signal?: AbortSignal;
  /** Serve the queue status page (`/`, `/status.json`) on this loopback port. */
  statusPort?: number;
  /** Handle SIGINT/SIGTERM: first finishes running jobs, second gives them up (default true). */
  handleSignals?: boolean;
}

/**
 * Runs BullMQ workers in this process until SIGINT/SIGTERM (or the signal): stage workers, and the ingest
 * consumer when asked. Shutdown is graceful: workers stop taking jobs and finish the running ones; a second
 * signal gives them up (their locks lapse and another worker takes them over).
 */
export async function runWorkerProcess(config: ResolvedConfig, o: WorkerProcessOptions): Promise<void> {
  if (!config.redisUrl)
    throw new AppError("config_invalid", "workers need Redis: set REDIS_URL (or redisUrl in the config)");
  const log = o.log ?? ((l: string) => logger.info(l));
  const redis = createRedis(config.redisUrl, `mcp-census-worker-${process.pid}`, (err) =>
    log(`redis: ${oneLine(err)} (reconnecting)`),
  );
  const queues = openQueues(redis, config.queuePrefix);
  const stages = o.queues.filter((q): q is StageQueue => q === "probe" || q === "classify");
  let stageWorkers: StageWorkers | undefined;
  let ingest: IngestConsumer | undefined;
  let closeCatalog: (() => void) | undefined;
  try {
    if (o.queues.includes("ingest")) {
      const cat = openCatalog(config.dbPath);
      closeCatalog = () => cat.close();
      ingest = await startIngestConsumer({
        connection: redis,
        prefix: config.queuePrefix,
        sqlite: cat.sqlite,
        config,
        // The writer classifies like the embedded crawl (LLM answers cached in the catalog) for the end-of-run catch-up.
        classifier: createCatalogClassifier(cat.sqlite, config, { llm: o.llm, timeBudget: false }),
        queues,
        tuning: o.tuning,
        log,
      });
    }
    if (stages.length) {
      const probeOpts = probeOptionsFrom(config);
      stageWorkers = startStageWorkers({
        connection: redis,
        prefix: config.queuePrefix,
        queues: stages,
        concurrency: { probe: o.concurrency ?? config.concurrency, classify: o.classifyConcurrency ?? 4 },
        probe: o.probe ?? ((entry) => probeStage(entry, probeOpts)),
        classifier: stages.includes("classify") ? workerClassifier(config, { llm: o.llm }) : undefined,
        classifyLimiter: o.llmPerMinute ? { max: o.llmPerMinute, duration: 60_000 } : undefined,
        tuning: o.tuning,
        ingestQueue: queues.ingest,
        log,
      });
    }
  } catch (err) {
    await stageWorkers?.close(true);
    await closeQueues(queues);
    redis.disconnect();
    closeCatalog?.();
    throw err;
  }
  const status =
    o.statusPort !== undefined ? await startStatusServer(redis, config.queuePrefix, queues, o.statusPort) : undefined;
  if (status) log(`queue status page at ${status.url}/`);
  log(`worker ${process.pid}: working on ${o.queues.join(", ")} (prefix ${config.queuePrefix})`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (force: boolean) => {
      if (stopping && !force) return;
      stopping = true;
      log(
        force
          ? `worker ${process.pid}: giving up running jobs (they return to the queue)`
          : `worker ${process.pid}: finishing running jobs (signal again to stop now)`,
      );
      Promise.all([stageWorkers?.close(force), ingest?.close(force)])
        .catch((err) => log(`worker ${process.pid}: ${oneLine(err)}`))
        .finally(resolve);
    };
    let signals = 0;
    const onSignal = () => stop(++signals > 1);
    if (o.handleSignals !== false) {
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    }
    o.signal?.addEventListener("abort", () => stop(false), { once: true });
  });
  await status?.close();
  await closeQueues(queues);
  await redis.quit().catch(() => redis.disconnect());
  closeCatalog?.();
  log(`worker ${process.pid}: stopped`);
}
