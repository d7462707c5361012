import { type JobsOptions, Queue } from "bullmq";
import { Redis } from "ioredis";

/** One queue per stage. `ingest` carries every catalog write (and discovery) and has exactly one consumer. */
export const QUEUE_NAMES = ["probe", "classify", "ingest"] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
export const STAGE_QUEUES = ["probe", "classify"] as const;
export type StageQueue = (typeof STAGE_QUEUES)[number];

/** Job names on the ingest queue. */
export const INGEST = {
  crawl: "crawl",
  probed: "probed",
  classified: "classified",
  stageFailed: "stage-failed",
  finish: "finish",
} as const;

/** Finished jobs are kept long enough to debug a run, bounded so Redis memory stays flat over months of crawls. */
export const RETENTION = {
  removeOnComplete: { age: 24 * 3600, count: 20_000 },
  removeOnFail: { age: 14 * 24 * 3600, count: 20_000 },
} as const;

/**
 * Attempts and backoff per queue. Probe outcomes (install_failed, timeout, …) are results, not failures: a probe
 * job only fails when our own code throws; on its last attempt the throw itself becomes the stored outcome.
 */
export const JOB_OPTIONS: Record<QueueName, JobsOptions> = {
  probe: { attempts: 3, backoff: { type: "exponential", delay: 5_000 }, ...RETENTION },
  // Classify and ingest jobs carry whole listings: keep fewer of them once done.
  classify: {
    attempts: 5,
    backoff: { type: "exponential", delay: 2_000 },
    ...RETENTION,
    removeOnComplete: { age: 6 * 3600, count: 5_000 },
  },
  ingest: {
    attempts: 8,
    backoff: { type: "exponential", delay: 1_000 },
    ...RETENTION,
    removeOnComplete: { age: 6 * 3600, count: 5_000 },
  },
};

/** Lock and stall settings; tests shorten them so a killed worker's job comes back within seconds. */
export interface WorkerTuning {
  /** How long a job's lock lives without renewal (a dead worker's jobs return after about this). */
  lockDuration?: number;
  /** How often workers look for stalled jobs. */
  stalledInterval?: number;
  /** Stalls (worker died mid-job) before the job fails: bounds a poison job that kills its worker every time. */
  maxStalledCount?: number;
}

export const DEFAULT_TUNING: Required<WorkerTuning> = {
  lockDuration: 60_000,
  stalledInterval: 30_000,
  maxStalledCount: 2,
};

/** Tuning with defaults for whatever was left unset. */
export function tuned(t: WorkerTuning = {}): Required<WorkerTuning> {
  return {
    lockDuration: t.lockDuration ?? DEFAULT_TUNING.lockDuration,
    stalledInterval: t.stalledInterval ?? DEFAULT_TUNING.stalledInterval,
    maxStalledCount: t.maxStalledCount ?? DEFAULT_TUNING.maxStalledCount,
  };
}

/**
 * A Redis connection as BullMQ needs it: `maxRetriesPerRequest: null` so blocking commands wait through a Redis
 * restart instead of failing, and reconnects forever with a capped delay.
 */
export function createRedis(url: string, name = "mcp-census", onError?: (err: Error) => void): Redis {
  const r = new Redis(url, {
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  });
  let last = 0;
  const report = (err: Error) => {
    // Reconnects are automatic; say so (one line, by the caller) at most every 5 s instead of once per attempt.
    if (Date.now() - last < 5_000) return;
    last = Date.now();
    onError?.(err);
  };
  r.on("error", report);
  REPORTERS.set(r, report);
  return r;
}

/** Each connection's throttled error reporter: its queues re-emit the connection's errors through it. */
const REPORTERS = new WeakMap<Redis, (err: Error) => void>();

/** The queues of one deployment (same Redis, same prefix). */
export function openQueues(connection: Redis, prefix: string): Record<QueueName, Queue> {
  const out = {} as Record<QueueName, Queue>;
  // A queue re-emits its connection's errors; with no listener BullMQ prints each one as a multi-line trace
  // (ECONNREFUSED every 100 ms while Redis restarts). They go to the connection's one-line, throttled reporter.
  const report = REPORTERS.get(connection) ?? (() => {});
  for (const name of QUEUE_NAMES) {
    out[name] = new Queue(name, { connection, prefix, defaultJobOptions: JOB_OPTIONS[name] });
    out[name].on("error", report);
  }
  return out;
}

/** Closes queues opened with openQueues (not their shared connection). */
export async function closeQueues(queues: Record<QueueName, Queue>): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}
