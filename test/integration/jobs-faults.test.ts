import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCatalog } from "../../src/store/db.js";
import {
  type RedisProc,
  spawnWorker,
  startCli,
  startRedis,
  stopWorker,
  until,
  type WorkerProc,
  writeSeeds,
} from "../fixtures/jobs/harness.js";
import { type LlmFixture, startLlmFixture } from "../fixtures/jobs/llm-fixture.js";
import { type FixtureServer, startFixtureServer } from "../fixtures/jobs/mcp-http-fixture.js";

let fixture: FixtureServer;
let tmp: string;
const workers: WorkerProc[] = [];
const redises: RedisProc[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "jobs-faults-"));
  fixture = await startFixtureServer();
});

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorker(w, 2_000)));
  await Promise.all(redises.map((r) => r.stop()));
  await fixture?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const FAST = ["--lock-duration", "2000", "--stalled-interval", "1000"];

function envFor(redis: RedisProc, name: string, extra: Record<string, string> = {}) {
  return {
    REDIS_URL: redis.url,
    MCP_CENSUS_QUEUE_PREFIX: `t-${name}`,
    MCP_CENSUS_ALLOW_PRIVATE_NETWORK: "1",
    MCP_CENSUS_DATA_DIR: join(tmp, name),
    ...extra,
  };
}

function worker(env: Record<string, string>, args: string[], entry?: string): WorkerProc {
  const w = spawnWorker({ ...env, MCP_CENSUS_DATA_DIR: join(tmp, `w-${workers.length}`) }, [...FAST, ...args], entry);
  workers.push(w);
  return w;
}

function count(dbPath: string, sql: string): number {
  const cat = openCatalog(dbPath, { readonly: true });
  try {
    return (cat.sqlite.prepare(sql).get() as { n: number }).n;
  } finally {
    cat.close();
  }
}

describe("distributed crawl under faults", () => {
  it("Redis restarted mid-crawl (SIGKILL, AOF): workers reconnect and the crawl finishes", async () => {
    const redis = await startRedis(mkdtempSync(join(tmp, "aof-")));
    redises.push(redis);
    const seeds = writeSeeds(join(tmp, "rr-seeds"), fixture.url, 8, { delayMs: 700 });
    const env = envFor(redis, "rr");
    const ws = [worker(env, ["--concurrency", "2"]), worker(env, ["--concurrency", "2"])];
    const before = [...fixture.listed.values()].reduce((a, b) => a + b, 0);
    const cli = startCli(["crawl", "--distributed", "--no-outputs", "--registry-path", seeds], env);
    await until(() => [...fixture.listed.values()].reduce((a, b) => a + b, 0) - before >= 2, 30_000, 20);
    await redis.restart(1_500);
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/8 servers, 8 probed \(ok 8\), 24 tools listed/);
    const db = join(tmp, "rr", "catalog.db");
    expect(count(db, "SELECT COUNT(*) AS n FROM servers")).toBe(8);
    expect(
      count(db, "SELECT COUNT(*) AS n FROM (SELECT server_id FROM probes GROUP BY server_id HAVING COUNT(*) != 1)"),
    ).toBe(0);
    expect(count(db, "SELECT COUNT(*) AS n FROM tool_versions")).toBe(24);
    // The workers lived through it (they reconnect rather than exit).
    for (const w of ws) expect(w.proc.exitCode).toBeNull();
    await Promise.all(ws.map((w) => stopWorker(w)));
  });

  it("SIGTERM while probing: the worker finishes its running jobs, then exits 0; nothing is probed twice", async () => {
    const redis = await startRedis();
    redises.push(redis);
    const seeds = writeSeeds(join(tmp, "gs-seeds"), fixture.url, 4, { delayMs: 2_000 });
    const env = envFor(redis, "gs");
    const w = worker(env, ["--concurrency", "4"]);
    const classifyOnly = worker(env, ["--queues", "classify"]);
    const before = new Map(fixture.listed);
    const cli = startCli(["crawl", "--distributed", "--no-outputs", "--registry-path", seeds], env);
    const fresh = () => [...fixture.listed.entries()].filter(([n, c]) => n < 4 && c > (before.get(n) ?? 0)).length;
    await until(() => fresh() >= 4, 30_000, 20);
    w.proc.kill("SIGTERM");
    expect(await w.exited).toBe(0);
    expect(w.output()).toContain("finishing running jobs");
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 servers, 4 probed \(ok 4\), 12 tools listed/);
    for (let n = 0; n < 4; n++) expect((fixture.listed.get(n) ?? 0) - (before.get(n) ?? 0)).toBe(1);
    await stopWorker(classifyOnly);
  });

  it("a poison job that kills its worker every time ends failed with its reason after bounded attempts", async () => {
    const redis = await startRedis();
    redises.push(redis);
    const poison = {
      name: "io.example.fixture/poison",
      description: "kills the worker that probes it",
      remotes: [{ type: "streamable-http", url: `${fixture.url}/s999` }],
    };
    const seeds = writeSeeds(join(tmp, "pj-seeds"), fixture.url, 4, { extra: [poison] });
    const env = envFor(redis, "pj");
    // A supervisor restarts crashed workers, as systemd or Kubernetes would.
    let crashes = 0;
    let stopping = false;
    const supervise = (): void => {
      const w = worker(env, ["--max-stalled", "1"], "test/fixtures/jobs/crashing-worker.ts");
      void w.exited.then(() => {
        if (stopping) return;
        crashes++;
        if (crashes < 10) supervise();
      });
    };
    supervise();
    supervise();
    const cli = startCli(["crawl", "--distributed", "--no-outputs", "--registry-path", seeds], env);
    const r = await cli.done;
    stopping = true;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/5 servers, 5 probed \(ok 4, protocol_error 1\)/);
    expect(r.stdout).toContain(
      "io.example.fixture/poison: protocol_error — internal error while probing: job stalled more than allowable limit",
    );
    // maxStalledCount 1: the job killed two workers, then failed instead of killing more.
    expect(crashes).toBe(2);

    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const probeQ = new Queue("probe", { connection: conn, prefix: "t-pj" });
    const failed = await probeQ.getFailed();
    expect(failed.map((j) => [j.data.server, j.failedReason])).toEqual([
      ["io.example.fixture/poison", "job stalled more than allowable limit"],
    ]);
    // A payload that can never be valid fails at once (UnrecoverableError), not after every backoff.
    const bad = await probeQ.add("probe", { runKey: "bad", serverId: -1 }, { jobId: "probe-bad-payload", attempts: 5 });
    const failedBad = await until(
      async () => ((await probeQ.getJob(bad.id ?? ""))?.failedReason ? probeQ.getJob(bad.id ?? "") : undefined),
      20_000,
    );
    expect(failedBad?.failedReason).toMatch(/^invalid probe payload: serverId/);
    expect(failedBad?.attemptsMade).toBe(1);
    await probeQ.close();
    conn.disconnect();
    const db = join(tmp, "pj", "catalog.db");
    expect(count(db, "SELECT COUNT(*) AS n FROM probes")).toBe(5);
  });

  it("the LLM answering 429 slows the classify queue down; no job fails and none falls back to heuristics", async () => {
    const redis = await startRedis();
    redises.push(redis);
    let llm: LlmFixture | undefined;
    try {
      llm = await startLlmFixture({ rateLimitFor: 5, retryAfterS: 1 });
      const seeds = writeSeeds(join(tmp, "rl-seeds"), fixture.url, 3);
      const env = envFor(redis, "rl", {
        OPENAI_BASE_URL: llm.baseUrl,
        OPENAI_API_KEY: "test-key",
        MCP_CENSUS_LLM_THRESHOLD: "1",
      });
      const ws = [worker(env, []), worker(env, [])];
      const t0 = Date.now();
      const cli = startCli(["crawl", "--distributed", "--no-outputs", "--registry-path", seeds], env);
      const r = await cli.done;
      expect(r.code, r.stderr).toBe(0);
      expect(llm.stats.limited).toBe(5);
      // Each 429 asked for 1 s: the queue waited instead of hammering the endpoint.
      expect(Date.now() - t0).toBeGreaterThan(2_000);
      const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
      const classifyQ = new Queue("classify", { connection: conn, prefix: "t-rl" });
      expect(await classifyQ.getFailedCount()).toBe(0);
      expect((await classifyQ.getCompleted()).length).toBe(3);
      await classifyQ.close();
      conn.disconnect();
      const db = join(tmp, "rl", "catalog.db");
      expect(count(db, "SELECT COUNT(*) AS n FROM tools")).toBe(9);
      expect(
        count(
          db,
          "SELECT COUNT(*) AS n FROM tools t JOIN classifications c ON c.hash = t.hash WHERE c.source = 'heuristic'",
        ),
      ).toBe(0);
      expect(count(db, "SELECT COUNT(*) AS n FROM tools t JOIN classifications c ON c.hash = t.hash")).toBe(9);
      expect(ws.map((w) => w.output()).join("")).toContain("LLM rate limited, pausing the queue");
    } finally {
      await llm?.close();
    }
  });
});
