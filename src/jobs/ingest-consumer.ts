import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Queue } from "bullmq";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { ResolvedConfig } from "../core/config.js";
import { AppError, isRetryable, oneLine } from "../core/errors.js";
import type { ProbeResult } from "../core/types.js";
import {
  type CrawlSummary,
  completeServer,
  discover,
  endRun,
  entryOf,
  failRun,
  startRun as openRun,
  type ServerFailure,
  type ServerTally,
  serversToProbe,
  storeProbe as storeProbeResult,
} from "../pipeline/run.js";
import { probeKey, probeOptionsFrom, reusableListing, type ToolClassifier } from "../pipeline/stages.js";
import { type Sqlite, writeTransaction } from "../store/db.js";
import { lastProbe } from "../store/queries.js";
import { failRunningCrawlRuns, probeIsStored, runningCrawlRuns } from "../store/runs.js";
import { ids, runKeyFrom } from "./ids.js";
import { INGEST, JOB_OPTIONS, type QueueName, tuned, type WorkerTuning } from "./queues.js";
import { activeRuns, type RunState, redisEpoch, redisLostMessage, runState, sameRedisEpoch } from "./run-state.js";
import {
  ClassifiedJobSchema,
  type CrawlJob,
  CrawlJobSchema,
  FinishJobSchema,
  ProbedJobSchema,
  StageFailedJobSchema,
  validate,
} from "./schemas.js";
import { internalErrorResult } from "./stage-workers.js";

export interface IngestConsumerOptions {
  connection: Redis;
  prefix: string;
  sqlite: Sqlite;
  config: ResolvedConfig;
  /** Used for the end-of-run catch-up and to know which definitions are classified already. */
  classifier: ToolClassifier & { version: string };
  queues: Record<QueueName, Queue>;
  tuning?: WorkerTuning;
  /** How often failed stage jobs are turned into stored outcomes (default 2 s). */
  sweepIntervalMs?: number;
  log?: (line: string) => void;
}

export interface IngestConsumer {
  worker: Worker;
  /**
   * Checks that Redis still holds its data; when it lost it, the catalog's distributed runs still `running` whose
   * state is gone are marked failed (they can never finish). Returns whether data was lost. The sweep calls it too.
   */
  checkRedisData(): Promise<boolean>;
  close(force?: boolean): Promise<void>;
}

const OWNER_TTL_MS = 30_000;
const RENEW_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;
const RELEASE_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Who holds the catalog writer role in this deployment, if anyone. */
export async function ingestOwner(redis: Redis, prefix: string): Promise<string | null> {
  return redis.get(`${prefix}:ingest-owner`);
}

/**
 * The single catalog writer: consumes the ingest queue with concurrency 1 (discovery, probe results,
 * classifications, end-of-run work) and holds an owner key in Redis so a second writer refuses to start.
 */
export async function startIngestConsumer(o: IngestConsumerOptions): Promise<IngestConsumer> {
  const { sqlite, connection: redis, prefix, queues, classifier } = o;
  const log = o.log ?? (() => {});
  const tuning = tuned(o.tuning);
  const ownerKey = `${prefix}:ingest-owner`;
  const me = `${hostname()}/${process.pid}/${randomBytes(3).toString("hex")}`;
  if (!(await redis.eval(RENEW_OWNER, 1, ownerKey, me, OWNER_TTL_MS))) {
    const other = await redis.get(ownerKey);
    throw new AppError("db_unwritable", `another ingest consumer already writes the catalog (${other ?? "unknown"})`);
  }
  const renew = setInterval(() => {
    redis.eval(RENEW_OWNER, 1, ownerKey, me, OWNER_TTL_MS).then(
      (ok) => {
        if (!ok) log("ingest: lost the writer role to another process");
      },
      () => {},
    );
  }, OWNER_TTL_MS / 3);
  renew.unref();

  const state = (runKey: string) => runState(redis, prefix, runKey);
  let epoch = await redisEpoch(redis, prefix);

  async function checkRedisData(): Promise<boolean> {
    if (await sameRedisEpoch(redis, prefix, epoch)) return false;
    for (const run of runningCrawlRuns(sqlite, "distributed")) {
      const runKey = (run.stats as { runKey?: unknown } | null)?.runKey;
      if (typeof runKey === "string" && (await state(runKey).get())) continue;
      const reason = redisLostMessage(typeof runKey === "string" ? runKey : `#${run.id}`);
      if (failRunningCrawlRuns(sqlite, [run.id], reason)) log(`ingest: ${reason}`);
    }
    epoch = await redisEpoch(redis, prefix);
    return true;
  }

  async function serverDone(
    st: RunState,
    serverId: number,
    stats: Partial<ServerTally>,
    failure?: ServerFailure,
  ): Promise<void> {
    const { done } = await st.markDone(serverId, stats, failure);
    const info = await st.get();
    if (info?.status === "probing" && done >= info.total) await enqueueFinish(st.runKey);
  }

  async function enqueueFinish(runKey: string): Promise<void> {
    await queues.ingest.add(INGEST.finish, { runKey }, { ...JOB_OPTIONS.ingest, jobId: ids.finish(runKey) });
  }

  async function startRun(job: Job): Promise<unknown> {
    const d: CrawlJob = validate(CrawlJobSchema, job.data, "crawl");
    const runKey = d.runKey ?? runKeyFrom(job.id ?? "");
    const st = state(runKey);
    let info = await st.get();
    if (info?.status === "finishing" || info?.status === "done" || info?.status === "failed") return { runKey };
    let runId = info?.runId;
    const startedAt = new Date().toISOString();
    if (!runId) {
      runId = openRun(sqlite, "distributed", { runKey }, startedAt);
      await st.init(runId, { ...d, runKey, startedAt, t0: Date.now() });
      info = await st.get();
    }
    try {
      await discover(sqlite, o.config, runId, d, {
        log,
        onSource: (id, stats) => st.set({ [`source:${id}`]: JSON.stringify(stats) }),
      });
    } catch (err) {
      // Bad local input stops the run before any server is touched (not retryable: the job fails for good, see
      // the worker below); anything the error table calls retryable is retried by the queue.
      if (isRetryable(err)) throw err;
      failRun(sqlite, runId, { runKey }, err);
      await st.finish("failed", { error: oneLine(err), code: err instanceof AppError ? err.code : "internal" });
      throw err;
    }
    const servers = serversToProbe(sqlite, d.only);
    // As the embedded crawl does: a server whose last listing still stands (same pinned package, launch, settings
    // and probe, young enough) is not sent to a worker; its listing counts for the run as it is.
    const maxAgeMs = d.reprobe ? 0 : o.config.reprobeAfterHours * 3_600_000;
    const probeOpts = probeOptionsFrom(o.config);
    const toProbe: typeof servers = [];
    let reused = 0;
    let reusedTools = 0;
    for (const s of d.probe === false ? [] : servers) {
      const entry = entryOf(s);
      const last = maxAgeMs > 0 ? lastProbe(sqlite, s.id) : undefined;
      if (last && reusableListing(last, entry, probeKey(entry, probeOpts), maxAgeMs)) {
        reused++;
        reusedTools += last.toolCount;
      } else {
        toProbe.push(s);
      }
    }
    // Total first: a probe finishing before the last one is enqueued must already see it. Set, not added, so a
    // re-run of this job counts the reused listings once.
    await st.set({
      "n:servers": servers.length,
      "n:reused": reused,
      "n:reusedTools": reusedTools,
      total: toProbe.length,
      status: "probing",
    });
    for (let i = 0; i < toProbe.length; i += 500) {
      await queues.probe.addBulk(
        toProbe.slice(i, i + 500).map((s) => ({
          name: "probe",
          data: { runKey, serverId: s.id, server: s.name, entry: entryOf(s) },
          opts: { ...JOB_OPTIONS.probe, jobId: ids.probe(runKey, s.id) },
        })),
      );
    }
    log(
      `run ${runKey}: ${toProbe.length} servers enqueued for probing${reused ? `, ${reused} unchanged (last listing reused)` : ""}`,
    );
    if ((await st.get())!.done >= toProbe.length) await enqueueFinish(runKey);
    return { runKey, runId, servers: toProbe.length };
  }

  async function storeProbe(runKey: string, serverId: number, server: string, probed: ProbeResult): Promise<string> {
    const st = state(runKey);
    if (await st.isDone(serverId)) return "already done";
    if (probeIsStored(sqlite, serverId, probed.startedAt, probed.outcome)) return "already stored";
    // The Redis side (next job, done mark) happens before COMMIT: if the process dies in between, the job is
    // re-run and re-does both; if it dies after COMMIT the re-run sees the probe stored and stops.
    return writeTransaction(sqlite, async () => {
      const {
        ingest,
        result,
        tally: stats,
        failure,
        todo,
      } = storeProbeResult(sqlite, { id: serverId, name: server }, probed, classifier.version);
      if (failure) {
        await serverDone(st, serverId, stats, failure);
        return result.outcome;
      }
      if (todo.length) {
        await queues.classify.add(
          "classify",
          { runKey, serverId, server, items: todo, ingest, stats },
          { ...JOB_OPTIONS.classify, jobId: ids.classify(runKey, serverId) },
        );
        return "classify";
      }
      await serverDone(st, serverId, stats);
      return "ok";
    });
  }

  async function storeClassified(job: Job): Promise<string> {
    const d = validate(ClassifiedJobSchema, job.data, "classified");
    const st = state(d.runKey);
    if (await st.isDone(d.serverId)) return "already done";
    return writeTransaction(sqlite, async () => {
      completeServer(sqlite, d.results);
      await serverDone(st, d.serverId, { ...d.stats, classified: d.results.length });
      return "ok";
    });
  }

  async function storeStageFailure(job: Job): Promise<string> {
    const d = validate(StageFailedJobSchema, job.data, "stage-failed");
    if (d.stage === "probe") return storeProbe(d.runKey, d.serverId, d.server, internalErrorResult(d.reason));
    const st = state(d.runKey);
    if (await st.isDone(d.serverId)) return "already done";
    // Classification failed for good: the listing and its changes are stored; the end-of-run catch-up classifies
    // what is left.
    return writeTransaction(sqlite, async () => {
      await serverDone(st, d.serverId, d.stats ?? {});
      return "recorded";
    });
  }

  async function finishRun(job: Job): Promise<unknown> {
    const d = validate(FinishJobSchema, job.data, "finish");
    const st = state(d.runKey);
    const info = await st.get();
    if (!info) throw new UnrecoverableError(`no state for run ${d.runKey}`);
    if (info.status === "done") return info.summary;
    await st.set({ status: "finishing" });
    const opts = info.options as { outputs?: boolean; t0?: number };
    // The same end-of-run steps as the embedded crawl; the figures are the counters the jobs kept in Redis.
    const summary = await endRun(
      sqlite,
      o.config,
      classifier,
      info.runId ?? 0,
      { outputs: opts.outputs, t0: opts.t0, extraStats: { runKey: d.runKey } },
      async () => {
        const fresh = (await st.get())!;
        const raw = await redis.hgetall(`${prefix}:run:${d.runKey}`);
        const sources: CrawlSummary["sources"] = {};
        for (const [k, v] of Object.entries(raw)) if (k.startsWith("source:")) sources[k.slice(7)] = JSON.parse(v);
        // Reused listings' tools are kept apart while probes add theirs (so a re-run start cannot double them).
        const { reusedTools = 0, ...counters } = fresh.counters;
        counters.tools = (counters.tools ?? 0) + reusedTools;
        return { counters, failures: await st.failures(), sources };
      },
    );
    await st.finish("done", { summary: JSON.stringify(summary) });
    log(`run ${d.runKey}: done`);
    return summary;
  }

  async function handle(job: Job): Promise<unknown> {
    switch (job.name) {
      case INGEST.crawl:
        return startRun(job);
      case INGEST.probed: {
        const d = validate(ProbedJobSchema, job.data, "probed");
        return storeProbe(d.runKey, d.serverId, d.server, d.result as unknown as ProbeResult);
      }
      case INGEST.classified:
        return storeClassified(job);
      case INGEST.stageFailed:
        return storeStageFailure(job);
      case INGEST.finish:
        return finishRun(job);
      default:
        throw new UnrecoverableError(`unknown ingest job "${job.name}"`);
    }
  }

  const worker = new Worker(
    "ingest",
    async (job: Job) => {
      try {
        return await handle(job);
      } catch (err) {
        // The error table says whether trying again can succeed; a job that cannot is failed for good now.
        if (!isRetryable(err)) throw new UnrecoverableError(oneLine(err));
        throw err;
      }
    },
    {
      connection: redis,
      prefix,
      concurrency: 1,
      lockDuration: Math.max(tuning.lockDuration, 60_000),
      stalledInterval: tuning.stalledInterval,
      maxStalledCount: tuning.maxStalledCount,
      name: `ingest:${me}`,
    },
  );
  worker.on("failed", (job, err) => {
    if (job) log(`ingest: job ${job.id} failed (attempt ${job.attemptsMade}): ${oneLine(err)}`);
  });
  // While Redis restarts the worker's connection fails every attempt: the same line at most every 5 s.
  let lastError = { line: "", at: 0 };
  worker.on("error", (err) => {
    const line = `ingest: ${oneLine(err)}`;
    if (line === lastError.line && Date.now() - lastError.at < 5_000) return;
    lastError = { line, at: Date.now() };
    log(line);
  });

  // Failed stage jobs become stored outcomes, so a run always completes. State-based (scan the failed sets), not
  // event-based: nothing is missed while this process was down.
  const lastFailed: Partial<Record<QueueName, number>> = {};
  let sweeping = false;
  async function sweep(): Promise<void> {
    await checkRedisData();
    const runs = new Set(await activeRuns(redis, prefix));
    if (runs.size === 0) return;
    for (const q of ["probe", "classify", "ingest"] as const) {
      const n = await queues[q].getFailedCount();
      if (n === lastFailed[q]) continue;
      const jobs = await queues[q].getFailed(0, 999);
      for (const j of jobs) {
        const data = (j?.data ?? {}) as { runKey?: string; serverId?: number; server?: string };
        if (j && q === "ingest" && (j.name === INGEST.crawl || j.name === INGEST.finish)) {
          // The run itself cannot start or end: say so, so whoever watches it stops waiting.
          const runKey = data.runKey ?? runKeyFrom(j.id ?? "");
          if (runs.has(runKey)) await state(runKey).finish("failed", { error: j.failedReason || "failed" });
          continue;
        }
        if (!j || !data.runKey || !runs.has(data.runKey) || typeof data.serverId !== "number") continue;
        const st = state(data.runKey);
        if (await st.isDone(data.serverId)) continue;
        const reason = j.failedReason || "failed";
        if (q === "ingest") {
          // The write itself keeps failing: count the server as done with the reason so the run can end.
          await serverDone(
            st,
            data.serverId,
            { outcome: "protocol_error" },
            {
              server: data.server ?? String(data.serverId),
              outcome: "ingest_failed",
              error: reason,
            },
          );
          continue;
        }
        const d = j.data as { ingest?: unknown; stats?: unknown };
        await queues.ingest.add(
          INGEST.stageFailed,
          {
            runKey: data.runKey,
            serverId: data.serverId,
            server: data.server,
            stage: q,
            reason,
            ingest: d.ingest,
            stats: d.stats,
          },
          { ...JOB_OPTIONS.ingest, jobId: ids.stageFailed(q, data.runKey, data.serverId) },
        );
      }
      lastFailed[q] = n;
    }
    for (const runKey of runs) {
      const info = await state(runKey).get();
      if (info?.status === "probing" && info.done >= info.total) await enqueueFinish(runKey);
    }
  }
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweep()
      .catch((err) => log(`ingest: sweep: ${oneLine(err)}`))
      .finally(() => {
        sweeping = false;
      });
  }, o.sweepIntervalMs ?? 2_000);
  timer.unref();

  return {
    worker,
    checkRedisData,
    async close(force = false) {
      clearInterval(timer);
      clearInterval(renew);
      await worker.close(force);
      // If Redis cannot be reached the writer role lapses by itself (OWNER_TTL_MS); say so rather than hide it.
      await redis
        .eval(RELEASE_OWNER, 1, ownerKey, me)
        .catch((err) => log(`ingest: could not release the writer role (it expires by itself): ${oneLine(err)}`));
    },
  };
}
