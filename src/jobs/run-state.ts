import type { Redis } from "ioredis";
import type { ServerFailure, ServerTally } from "../pipeline/run.js";

/*
 * The state of a distributed crawl run lives in Redis next to its queues (same prefix, so a `{hash-tag}` prefix
 * keeps it in the queues' cluster slot): a hash of totals, a set of servers done, a hash of failures. Marking a
 * server done adds its figures once, however often a retried job reports it.
 */

const MARK_DONE = `
local added = redis.call('SADD', KEYS[2], ARGV[1])
if added == 1 then
  for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return {added, redis.call('SCARD', KEYS[2])}
`;

export type RunStatus = "discovering" | "probing" | "finishing" | "done" | "failed";

export interface RunInfo {
  runKey: string;
  runId?: number;
  status?: RunStatus;
  total: number;
  done: number;
  options: Record<string, unknown>;
  counters: Record<string, number>;
  summary?: unknown;
  error?: string;
  /** AppError code of a failed run (e.g. bad_input for a broken seed file). */
  code?: string;
}

/** Keeps finished runs' state this long (the catalog's crawl_runs row is the permanent record). */
const FINISHED_TTL_S = 7 * 24 * 3600;

/** Handle on one run's state. */
export function runState(redis: Redis, prefix: string, runKey: string) {
  const key = `${prefix}:run:${runKey}`;
  const doneKey = `${key}:done`;
  const failKey = `${key}:failures`;
  const activeKey = `${prefix}:runs:active`;
  return {
    runKey,
    async get(): Promise<RunInfo | undefined> {
      const [h, done] = await Promise.all([redis.hgetall(key), redis.scard(doneKey)]);
      if (!h || Object.keys(h).length === 0) return undefined;
      const counters: Record<string, number> = {};
      for (const [k, v] of Object.entries(h)) if (k.startsWith("n:")) counters[k.slice(2)] = Number(v);
      return {
        runKey,
        runId: h.runId ? Number(h.runId) : undefined,
        status: h.status as RunStatus | undefined,
        total: h.total ? Number(h.total) : 0,
        done,
        options: h.options ? JSON.parse(h.options) : {},
        counters,
        summary: h.summary ? JSON.parse(h.summary) : undefined,
        error: h.error,
        code: h.code,
      };
    },
    async init(runId: number, options: Record<string, unknown>): Promise<void> {
      await redis
        .multi()
        .hset(key, { runId: String(runId), status: "discovering", options: JSON.stringify(options) })
        .zadd(activeKey, Date.now(), runKey)
        .exec();
    },
    async set(fields: Record<string, string | number>): Promise<void> {
      await redis.hset(key, Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])));
    },
    /** Adds to counters (not idempotent: only for figures computed once per run, e.g. the catch-up). */
    async add(counter: string, n: number): Promise<void> {
      if (n) await redis.hincrby(key, `n:${counter}`, n);
    },
    /**
     * Marks a server done and adds its figures the first time; returns how many servers are done. The counter names
     * are the orchestration's (pipeline/run.ts countServer): `probed`, `outcome.<o>`, each numeric tally field.
     */
    async markDone(serverId: number, stats: Partial<ServerTally>, failure?: ServerFailure) {
      if (failure)
        await redis.hset(failKey, failure.server, JSON.stringify({ outcome: failure.outcome, error: failure.error }));
      const incr: string[] = ["n:probed", "1"];
      if (stats.outcome) incr.push(`n:outcome.${stats.outcome}`, "1");
      for (const [k, v] of Object.entries(stats)) if (typeof v === "number" && v) incr.push(`n:${k}`, String(v));
      const [added, done] = (await redis.eval(MARK_DONE, 2, key, doneKey, String(serverId), ...incr)) as [
        number,
        number,
      ];
      return { first: added === 1, done };
    },
    async isDone(serverId: number): Promise<boolean> {
      return (await redis.sismember(doneKey, String(serverId))) === 1;
    },
    async doneIds(): Promise<Set<number>> {
      return new Set((await redis.smembers(doneKey)).map(Number));
    },
    async failures(): Promise<{ server: string; outcome: string; error: string }[]> {
      const h = await redis.hgetall(failKey);
      return Object.entries(h)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([server, v]) => ({ server, ...(JSON.parse(v) as { outcome: string; error: string }) }));
    },
    async finish(status: "done" | "failed", fields: Record<string, string>): Promise<void> {
      await redis
        .multi()
        .hset(key, { ...fields, status })
        .expire(key, FINISHED_TTL_S)
        .expire(doneKey, FINISHED_TTL_S)
        .expire(failKey, FINISHED_TTL_S)
        .zrem(activeKey, runKey)
        .exec();
    },
  };
}
export type RunState = ReturnType<typeof runState>;

/**
 * A marker of this Redis's data: set once (NX) and kept forever. When it is missing or different, Redis lost its data
 * since (restarted without persistence, flushed, failed over to an empty replica): every queue and run state of
 * before is gone, and a run in progress can never finish.
 */
export async function redisEpoch(redis: Redis, prefix: string): Promise<string> {
  const key = `${prefix}:epoch`;
  await redis.set(key, `${Date.now()}-${Math.random().toString(36).slice(2)}`, "NX");
  return (await redis.get(key)) ?? "";
}

/** Whether Redis still holds the data of the epoch read earlier (see redisEpoch). */
export async function sameRedisEpoch(redis: Redis, prefix: string, epoch: string): Promise<boolean> {
  return (await redis.get(`${prefix}:epoch`)) === epoch;
}

/** The one line said when a run cannot finish because Redis lost its data. */
export function redisLostMessage(runKey: string): string {
  return `crawl run ${runKey} cannot finish: Redis lost its data (restarted without persistence?), with the run's queues and state; start the crawl again (and run Redis with AOF persistence)`;
}

/** Run keys of runs not finished yet. */
export async function activeRuns(redis: Redis, prefix: string): Promise<string[]> {
  return redis.zrange(`${prefix}:runs:active`, "0", "-1");
}
