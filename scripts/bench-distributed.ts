/**
 * Distributed crawl benchmark: N servers served by a fast real loopback MCP server (test/fixtures/jobs), crawled
 * by the embedded mode and then by the distributed path with 1, 2 and 4 worker processes, in the same run.
 * Reports jobs/s per stage, the ingest writer's ceiling in tools/s (through the queue and bare), and the queue's
 * overhead per server against the embedded mode.
 *
 *   node --import tsx scripts/bench-distributed.ts [--servers 2000] [--workers 1,2,4] [--concurrency 8]
 *   full size: node --import tsx scripts/bench-distributed.ts --servers 20000
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Queue } from "bullmq";
import { CLASSIFIER_VERSION, createClassifier } from "../src/classify/index.js";
import { loadConfig, type ResolvedConfig } from "../src/core/config.js";
import type { ProbeResult } from "../src/core/types.js";
import { workerClassifier } from "../src/jobs/classifier.js";
import { startIngestConsumer } from "../src/jobs/ingest-consumer.js";
import { enqueueCrawl } from "../src/jobs/producers.js";
import { watchRun } from "../src/jobs/progress.js";
import { closeQueues, createRedis, INGEST, openQueues, type QueueName } from "../src/jobs/queues.js";
import { runState } from "../src/jobs/run-state.js";
import { runCrawl } from "../src/pipeline/crawl.js";
import { createProgress } from "../src/pipeline/progress.js";
import { ingestServer } from "../src/pipeline/stages.js";
import { upsertSourceEntry } from "../src/store/catalog.js";
import { openCatalog } from "../src/store/db.js";
import { freePort, startRedis, writeSeeds } from "../test/fixtures/jobs/harness.js";

const ROOT = resolve(import.meta.dirname, "..");
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? def) : def;
};
const N = Number(arg("servers", "2000"));
const WORKERS = arg("workers", "1,2,4").split(",").map(Number);
const CONC = Number(arg("concurrency", "8"));
const INGEST_PROBES = Number(arg("ingest-probes", "2000"));
const TOOLS_PER_PROBE = 10;

const tmp = mkdtempSync(join(tmpdir(), "bench-dist-"));
const log = (l: string) => process.stdout.write(`${l}\n`);
const sec = (ms: number) => (ms / 1000).toFixed(1);

async function startFixture(): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "test/fixtures/jobs/mcp-http-fixture.ts"), String(port)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((r) => proc.stdout?.once("data", () => r()));
  return { url: `http://127.0.0.1:${port}`, proc };
}

function configFor(dir: string, seeds: string, extra: Record<string, unknown> = {}): ResolvedConfig {
  return loadConfig(
    { dataDir: dir, seedsDir: seeds, allowPrivateNetwork: true, concurrency: CONC, ...extra },
    { env: {}, cwd: tmp },
  );
}

/** Jobs/s of a queue's completed jobs: count over the span from the first start to the last finish. */
async function stageRate(q: Queue): Promise<{ jobs: number; perSec: number; meanMs: number }> {
  const jobs = await q.getCompleted(0, -1);
  if (!jobs.length) return { jobs: 0, perSec: 0, meanMs: 0 };
  const start = Math.min(...jobs.map((j) => j.processedOn ?? 0));
  const end = Math.max(...jobs.map((j) => j.finishedOn ?? 0));
  const mean = jobs.reduce((a, j) => a + ((j.finishedOn ?? 0) - (j.processedOn ?? 0)), 0) / jobs.length;
  return { jobs: jobs.length, perSec: jobs.length / Math.max(0.001, (end - start) / 1000), meanMs: mean };
}

const fixture = await startFixture();
const redis = await startRedis();
const seeds = writeSeeds(join(tmp, "seeds"), fixture.url, N);
log(`# bench-distributed: ${N} servers (3 tools each) on a loopback Streamable HTTP MCP server, concurrency ${CONC}`);
try {
  // Embedded baseline.
  {
    const config = configFor(join(tmp, "embedded"), seeds);
    const cat = openCatalog(config.dbPath);
    const h = createClassifier();
    const t0 = Date.now();
    const s = await runCrawl(
      cat,
      config,
      { version: CLASSIFIER_VERSION, classify: (t) => h.classify(t) },
      { outputs: false },
      createProgress(process.stderr, true),
    );
    const ms = Date.now() - t0;
    cat.close();
    log(
      `embedded: ${s.probed} servers in ${sec(ms)} s = ${(s.probed / (ms / 1000)).toFixed(1)} servers/s (${(ms / s.probed).toFixed(2)} ms/server)`,
    );
    (globalThis as { embeddedMs?: number }).embeddedMs = ms;
  }

  for (const w of WORKERS) {
    const prefix = `bench-w${w}`;
    const dir = join(tmp, `dist-${w}`);
    mkdirSync(dir, { recursive: true });
    const config = configFor(dir, seeds, { redisUrl: redis.url, queuePrefix: prefix });
    const env = {
      ...process.env,
      REDIS_URL: redis.url,
      MCP_CENSUS_QUEUE_PREFIX: prefix,
      MCP_CENSUS_ALLOW_PRIVATE_NETWORK: "1",
      MCP_CENSUS_DATA_DIR: join(dir, "worker"),
    };
    const procs = Array.from({ length: w }, () =>
      spawn(
        process.execPath,
        ["--import", "tsx", join(ROOT, "workers/main.ts"), "--concurrency", String(Math.ceil(CONC / w)), "--no-llm"],
        {
          env,
          stdio: "ignore",
        },
      ),
    );
    const conn = createRedis(redis.url, "bench");
    const queues = openQueues(conn, prefix);
    const cat = openCatalog(config.dbPath);
    const c = workerClassifier(config, { llm: false });
    const consumer = await startIngestConsumer({
      connection: conn,
      prefix,
      sqlite: cat.sqlite,
      config,
      classifier: { version: c.version, classify: c.lenient.classify },
      queues,
    });
    // Workers up before the clock starts (their start-up is not queue overhead).
    while ((await queues.probe.getWorkersCount()) < w) await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const runKey = await enqueueCrawl(queues.ingest, { sources: [{ id: "seed", path: seeds }], outputs: false });
    const s = await watchRun(conn, prefix, runKey, queues, () => {}, 200);
    const ms = Date.now() - t0;
    const rates: Record<string, string> = {};
    for (const q of ["probe", "classify", "ingest"] as QueueName[]) {
      const r = await stageRate(queues[q]);
      rates[q] = `${r.jobs} jobs, ${r.perSec.toFixed(1)} jobs/s, mean ${r.meanMs.toFixed(1)} ms/job`;
    }
    const emb = (globalThis as { embeddedMs?: number }).embeddedMs ?? 0;
    log(
      `distributed, ${w} worker process${w > 1 ? "es" : ""} (probe concurrency ${Math.ceil(CONC / w)} each): ${s.probed} servers in ${sec(ms)} s = ${(s.probed / (ms / 1000)).toFixed(1)} servers/s; ` +
        `vs embedded ${((ms - emb) / s.probed).toFixed(2)} ms/server extra`,
    );
    for (const [q, r] of Object.entries(rates)) log(`  ${q}: ${r}`);
    await consumer.close();
    for (const p of procs) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once("exit", r)))));
    await closeQueues(queues);
    conn.disconnect();
    cat.close();
  }

  // The single writer's ceiling: P ready-made probe results of 10 new tools each, through the ingest queue, and bare.
  {
    const results = (i: number): ProbeResult => ({
      outcome: "ok",
      transport: "streamable-http",
      launch: {},
      startedAt: new Date(1_700_000_000_000 + i).toISOString(),
      durationMs: 5,
      timings: {},
      tools: Array.from({ length: TOOLS_PER_PROBE }, (_, k) => ({
        name: `tool_${k}`,
        description: `Tool ${k} of server ${i}: reads records and returns them.`,
        inputSchema: { type: "object", properties: { id: { type: "string" }, n: { type: "number" } } },
      })),
      prompts: [],
      resources: [],
      resourceTemplates: [],
      placeholders: [],
      warnings: [],
    });
    const mkServers = (sqlite: import("better-sqlite3").Database) =>
      Array.from(
        { length: INGEST_PROBES },
        (_, i) =>
          upsertSourceEntry(sqlite, {
            sourceId: "seed",
            sourceKey: `w${i}`,
            entry: { name: `io.example/w${i}`, packages: [], remotes: [] },
            raw: {},
          }).serverId,
      );
    // Bare: ingestServer in a loop.
    const bare = openCatalog(join(tmp, "ingest-bare.db"));
    const bareIds = mkServers(bare.sqlite);
    let t0 = performance.now();
    for (const [i, id] of bareIds.entries()) ingestServer(bare.sqlite, id, results(i));
    const bareMs = performance.now() - t0;
    bare.close();
    // Through the queue: the ingest consumer alone (classify jobs it creates just wait).
    const prefix = "bench-ingest";
    const config = configFor(join(tmp, "ingest-q"), seeds, { redisUrl: redis.url, queuePrefix: prefix });
    const conn = createRedis(redis.url, "bench-ingest");
    const queues = openQueues(conn, prefix);
    const cat = openCatalog(join(tmp, "ingest-queue.db"));
    const ids = mkServers(cat.sqlite);
    const st = runState(conn, prefix, "ceiling");
    await st.init(1, {});
    await st.set({ total: INGEST_PROBES + 1, status: "probing" });
    for (let i = 0; i < ids.length; i += 500) {
      await queues.ingest.addBulk(
        ids.slice(i, i + 500).map((id, k) => ({
          name: INGEST.probed,
          data: { runKey: "ceiling", serverId: id, server: `io.example/w${i + k}`, result: results(i + k) },
          opts: { jobId: `probed-ceiling-${id}`, removeOnComplete: false },
        })),
      );
    }
    const c = workerClassifier(config, { llm: false });
    t0 = performance.now();
    const consumer = await startIngestConsumer({
      connection: conn,
      prefix,
      sqlite: cat.sqlite,
      config,
      classifier: { version: c.version, classify: c.lenient.classify },
      queues,
    });
    while ((await queues.ingest.getCompletedCount()) < INGEST_PROBES) await new Promise((r) => setTimeout(r, 50));
    const queueMs = performance.now() - t0;
    await consumer.close();
    await closeQueues(queues);
    conn.disconnect();
    cat.close();
    const tools = INGEST_PROBES * TOOLS_PER_PROBE;
    log(
      `ingest writer ceiling (${INGEST_PROBES} probes × ${TOOLS_PER_PROBE} new tools): bare ingestServer ${(tools / (bareMs / 1000)).toFixed(0)} tools/s ` +
        `(${(bareMs / INGEST_PROBES).toFixed(2)} ms/probe); through the ingest queue ${(tools / (queueMs / 1000)).toFixed(0)} tools/s ` +
        `(${(queueMs / INGEST_PROBES).toFixed(2)} ms/probe, queue overhead ${((queueMs - bareMs) / INGEST_PROBES).toFixed(2)} ms/job)`,
    );
  }
} finally {
  fixture.proc.kill();
  await redis.stop();
  rmSync(tmp, { recursive: true, force: true });
}
