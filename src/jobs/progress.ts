import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { AppError } from "../core/errors.js";
import type { CrawlSummary } from "../pipeline/crawl.js";
import type { QueueName } from "./queues.js";
import { type RunInfo, redisLostMessage, runState, sameRedisEpoch } from "./run-state.js";

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

/** Job counts of every queue (what the progress line and the status page show). */
export async function queueCounts(queues: Record<QueueName, Queue>): Promise<Record<QueueName, QueueCounts>> {
  const out = {} as Record<QueueName, QueueCounts>;
  await Promise.all(
    (Object.keys(queues) as QueueName[]).map(async (name) => {
      const c = await queues[name].getJobCounts("waiting", "prioritized", "active", "delayed", "completed", "failed");
      out[name] = {
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
      };
    }),
  );
  return out;
}

/** One progress line: servers done of the run, then each queue's waiting/active/delayed/failed. */
export function formatProgress(
  info: RunInfo | undefined,
  counts: Record<QueueName, QueueCounts>,
  workers?: number,
): string {
  const run = info
    ? `${info.status ?? "queued"} ${info.done}/${info.total} servers`
    : "waiting for the ingest consumer";
  const q = (Object.keys(counts) as QueueName[])
    .map((n) => {
      const c = counts[n];
      return `${n} ${c.waiting}w ${c.active}a${c.delayed ? ` ${c.delayed}d` : ""}${c.failed ? ` ${c.failed}f` : ""}`;
    })
    .join(" | ");
  return `${run} — ${q}${workers !== undefined ? ` — ${workers} workers` : ""}`;
}

/**
 * Polls a run until its ingest consumer marks it done; calls `onTick` with the state and queue counts each
 * interval. Resolves with the run's summary; rejects when the run failed, and when Redis lost its data (the `epoch`
 * read before the run was enqueued is gone, or the run's state vanished): such a run can never finish.
 */
export async function watchRun(
  redis: Redis,
  prefix: string,
  runKey: string,
  queues: Record<QueueName, Queue>,
  onTick: (info: RunInfo | undefined, counts: Record<QueueName, QueueCounts>) => void,
  intervalMs = 500,
  signal?: AbortSignal,
  epoch?: string,
): Promise<CrawlSummary> {
  const st = runState(redis, prefix, runKey);
  let seen = false;
  for (;;) {
    if (signal?.aborted) throw new AppError("internal", "stopped watching the run (it continues on the workers)");
    const [info, counts, intact] = await Promise.all([
      st.get(),
      queueCounts(queues),
      epoch === undefined ? true : sameRedisEpoch(redis, prefix, epoch),
    ]);
    if (!intact || (seen && !info)) throw new AppError("network", redisLostMessage(runKey));
    seen ||= !!info;
    onTick(info, counts);
    if (info?.status === "done") return info.summary as CrawlSummary;
    if (info?.status === "failed")
      throw new AppError("internal", `crawl run ${runKey} failed: ${info.error ?? "unknown"}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
