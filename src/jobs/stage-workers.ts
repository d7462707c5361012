import { hostname } from "node:os";
import { type Job, type Queue, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { isRetryable, oneLine } from "../core/errors.js";
import type { ProbeResult, ServerEntry } from "../core/types.js";
import { classifyStage, internalErrorResult, type ToolClassifier } from "../pipeline/stages.js";
import { ids } from "./ids.js";
import { INGEST, JOB_OPTIONS, type StageQueue, tuned, type WorkerTuning } from "./queues.js";
import { ClassifyJobSchema, ProbeJobSchema, validate } from "./schemas.js";

export { internalErrorResult } from "../pipeline/stages.js";

/**
 * How long to pause the classify queue when the LLM said 429 (Retry-After / retry-after-ms when given), or
 * undefined when the error is not a rate limit. Looks through `cause` chains: classifiers wrap client errors.
 */
export function rateLimitDelay(err: unknown, fallbackMs = 2_000): number | undefined {
  for (let e = err as Record<string, unknown> | undefined, depth = 0; e && depth < 5; depth++) {
    const status = e.status ?? e.statusCode;
    if (status === 429 || e.code === "rate_limited") {
      const h = e.headers as { get?: (k: string) => string | null } | Record<string, string> | undefined;
      const header = (k: string) =>
        typeof (h as { get?: unknown })?.get === "function"
          ? ((h as { get: (k: string) => string | null }).get(k) ?? undefined)
          : (h as Record<string, string> | undefined)?.[k];
      const ms = Number(header("retry-after-ms"));
      if (Number.isFinite(ms) && ms > 0) return Math.min(ms, 600_000);
      const s = Number(header("retry-after"));
      if (Number.isFinite(s) && s > 0) return Math.min(s * 1000, 600_000);
      const explicit = Number(e.retryAfterMs);
      if (Number.isFinite(explicit) && explicit > 0) return Math.min(explicit, 600_000);
      return fallbackMs;
    }
    e = e.cause as Record<string, unknown> | undefined;
  }
  return undefined;
}

export interface StageWorkersOptions {
  connection: Redis;
  prefix: string;
  /** Stages this process works on (default both). */
  queues?: StageQueue[];
  concurrency?: Partial<Record<StageQueue, number>>;
  /** The probe stage (probeStage with this machine's probe options). */
  probe: (entry: ServerEntry) => Promise<ProbeResult>;
  /** Needed when the process works on `classify`; `lenient` (fallbacks kept) serves a job's last attempt. */
  classifier?: ToolClassifier & {
    lenient?: ToolClassifier;
    /** The classifier for one run's jobs (its LLM time budget is per run); the classifier itself when absent. */
    forRun?(runKey: string): ToolClassifier & { lenient?: ToolClassifier };
  };
  /** Cap on classify jobs per window across all workers (the LLM's quota), e.g. { max: 50, duration: 60_000 }. */
  classifyLimiter?: { max: number; duration: number };
  tuning?: WorkerTuning;
  ingestQueue: Queue;
  log?: (line: string) => void;
}

/** Handle on the running stage workers. */
export interface StageWorkers {
  workers: Worker[];
  /** Stops taking jobs and waits for the running ones (force: give them up; another worker picks them up). */
  close(force?: boolean): Promise<void>;
}

/**
 * Starts probe and classify workers. They never open the catalog: a probe's result and a classification travel
 * to the ingest queue as jobs with deterministic ids, so a retried or re-delivered job adds nothing twice.
 */
export function startStageWorkers(o: StageWorkersOptions): StageWorkers {
  const tuning = tuned(o.tuning);
  const log = o.log ?? (() => {});
  const queues = o.queues ?? ["probe", "classify"];
  const base = {
    connection: o.connection,
    prefix: o.prefix,
    lockDuration: tuning.lockDuration,
    stalledInterval: tuning.stalledInterval,
    maxStalledCount: tuning.maxStalledCount,
    name: `${hostname()}:${process.pid}`,
  };
  const workers: Worker[] = [];

  if (queues.includes("probe")) {
    const w = new Worker(
      "probe",
      async (job: Job) => {
        const data = validate(ProbeJobSchema, job.data, "probe");
        let result: ProbeResult;
        try {
          result = await o.probe(data.entry);
        } catch (err) {
          // Retry what the error table calls retryable; on the last attempt, or for an error no retry can fix, the
          // error becomes the stored outcome.
          if (isRetryable(err) && job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw err;
          result = internalErrorResult(err);
        }
        await o.ingestQueue.add(
          INGEST.probed,
          { runKey: data.runKey, serverId: data.serverId, server: data.server, result },
          { ...JOB_OPTIONS.ingest, jobId: ids.probed(data.runKey, data.serverId) },
        );
        return { outcome: result.outcome, tools: result.tools.length };
      },
      { ...base, concurrency: o.concurrency?.probe ?? 4 },
    );
    workers.push(w);
  }

  if (queues.includes("classify")) {
    const workerClassifier = o.classifier;
    if (!workerClassifier) throw new Error("the classify queue needs a classifier");
    let limited = 0;
    const w: Worker = new Worker(
      "classify",
      async (job: Job) => {
        const data = validate(ClassifyJobSchema, job.data, "classify");
        const classifier = workerClassifier.forRun?.(data.runKey) ?? workerClassifier;
        let results: Awaited<ReturnType<typeof classifyStage>>;
        try {
          results = await classifyStage(data.items, classifier);
          limited = 0;
        } catch (err) {
          const asked = rateLimitDelay(err, 0);
          if (asked !== undefined) {
            // The LLM asked us to slow down: pause the whole classify queue (every worker, every machine) and put
            // the job back without spending an attempt. Without Retry-After the pause doubles up to 30 s.
            const wait = asked || Math.min(1_000 * 2 ** limited, 30_000);
            limited++;
            log(`classify: LLM rate limited, pausing the queue ${wait} ms`);
            await w.rateLimit(wait);
            throw Worker.RateLimitError();
          }
          const retry = isRetryable(err);
          if (retry && job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw err;
          if (!classifier.lenient) throw retry ? err : new UnrecoverableError(oneLine(err));
          // Last attempt (or an error no retry can fix) and the LLM still fails: keep the heuristic fallback.
          results = await classifyStage(data.items, classifier.lenient);
        }
        await o.ingestQueue.add(
          INGEST.classified,
          { ...data, results },
          { ...JOB_OPTIONS.ingest, jobId: ids.classified(data.runKey, data.serverId) },
        );
        return { classified: results.length };
      },
      {
        ...base,
        concurrency: o.concurrency?.classify ?? 4,
        ...(o.classifyLimiter ? { limiter: o.classifyLimiter } : {}),
      },
    );
    workers.push(w);
  }

  for (const w of workers) {
    w.on("failed", (job, err) => {
      if (job) log(`${w.name}: job ${job.id} failed (attempt ${job.attemptsMade}): ${oneLine(err)}`);
    });
    w.on("error", (err) => log(`${w.name}: ${oneLine(err)}`));
  }

  return {
    workers,
    async close(force = false) {
      await Promise.all(workers.map((w) => w.close(force)));
    },
  };
}
