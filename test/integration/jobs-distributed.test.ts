import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/core/config.js";
import { createCatalogClassifier } from "../../src/pipeline/classifier.js";
import { formatSummary, runCrawl } from "../../src/pipeline/crawl.js";
import { exportLines } from "../../src/pipeline/export.js";
import { createProgress } from "../../src/pipeline/progress.js";
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
import { ROOT } from "../helpers/cli.js";

let redis: RedisProc;
let fixture: FixtureServer;
let tmp: string;
const workers: WorkerProc[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "jobs-dist-"));
  redis = await startRedis();
  fixture = await startFixtureServer();
});

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorker(w, 2_000)));
  await redis?.stop();
  await fixture?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Environment of one isolated deployment (own queue prefix, own data dir). */
function deployment(name: string, extra: Record<string, string> = {}) {
  const dir = join(tmp, name);
  return {
    dir,
    env: {
      REDIS_URL: redis.url,
      MCP_CENSUS_QUEUE_PREFIX: `t-${name}`,
      MCP_CENSUS_ALLOW_PRIVATE_NETWORK: "1",
      MCP_CENSUS_DATA_DIR: dir,
      MCP_CENSUS_PROBE_TIMEOUT_MS: "20000",
      ...extra,
    },
  };
}

const FAST = ["--lock-duration", "2000", "--stalled-interval", "1000", "--max-stalled", "2"];

function startWorkers(env: Record<string, string>, n: number, args: string[] = []): WorkerProc[] {
  const ws = Array.from({ length: n }, () =>
    spawnWorker({ ...env, MCP_CENSUS_DATA_DIR: join(env.MCP_CENSUS_DATA_DIR ?? tmp, `w${Math.random()}`) }, [
      ...FAST,
      ...args,
    ]),
  );
  workers.push(...ws);
  return ws;
}

/** What must hold of any finished catalog: each server once, one probe per server, no duplicate versions. */
function checkCatalog(dbPath: string, servers: number) {
  const cat = openCatalog(dbPath, { readonly: true });
  try {
    const q = (sql: string) => cat.sqlite.prepare(sql).all() as Record<string, number>[];
    expect(q("SELECT COUNT(*) AS n FROM servers")[0]?.n).toBe(servers);
    expect(q("SELECT name, COUNT(*) AS n FROM servers GROUP BY name HAVING n > 1")).toEqual([]);
    expect(q("SELECT server_id, COUNT(*) AS n FROM probes GROUP BY server_id HAVING n != 1")).toEqual([]);
    expect(q("SELECT COUNT(*) AS n FROM probes WHERE outcome != 'ok'")[0]?.n).toBe(0);
    expect(
      q("SELECT server_id, tool_name, hash, COUNT(*) AS n FROM tool_versions GROUP BY 1, 2, 3 HAVING n > 1"),
    ).toEqual([]);
    expect(q("SELECT COUNT(*) AS n FROM tool_versions")[0]?.n).toBe(servers * 3);
    expect(q("SELECT COUNT(*) AS n FROM tools")[0]?.n).toBe(servers * 3);
    const unclassified = q(
      `SELECT COUNT(*) AS n FROM tools t WHERE NOT EXISTS (SELECT 1 FROM classifications c WHERE c.hash = t.hash)`,
    );
    expect(unclassified[0]?.n).toBe(0);
    return [...exportLines(cat.sqlite)];
  } finally {
    cat.close();
  }
}

describe("distributed crawl", () => {
  it("on 2 worker processes ends with the same catalog content as the embedded mode", async () => {
    const seeds = writeSeeds(join(tmp, "eq-seeds"), fixture.url, 10, { delayMs: 200 });

    const embDir = join(tmp, "embedded");
    const config = loadConfig(
      { dataDir: embDir, seedsDir: seeds, allowPrivateNetwork: true, concurrency: 4 },
      { env: {}, cwd: tmp },
    );
    const cat = openCatalog(config.dbPath);
    const embSummary = await runCrawl(
      cat,
      config,
      createCatalogClassifier(cat.sqlite, config, { llm: false }),
      { outputs: false },
      createProgress(process.stderr, true),
    );
    const embedded = [...exportLines(cat.sqlite)];
    cat.close();

    const d = deployment("eq");
    const ws = startWorkers(d.env, 2, ["--concurrency", "2"]);
    const cli = startCli(["crawl", "--distributed", "--no-outputs", "--registry-path", seeds], d.env);
    const r = await cli.done;
    expect(r.stderr).toContain("enqueued");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/10 servers, 10 probed \(ok 10\), 30 tools listed/);
    const distributed = checkCatalog(join(d.dir, "catalog.db"), 10);
    expect(distributed).toEqual(embedded);
    // One orchestration, two runners: the same report, run number and time apart.
    const report = (text: string) => text.replace(/crawl #\d+/, "crawl #N").replace(/done in [\d.]+ s/, "done in T s");
    expect(report(r.stdout).trim()).toContain(report(formatSummary(embSummary)));

    // Both worker processes did probe work.
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const probeQ = new Queue("probe", { connection: conn, prefix: "t-eq" });
    const done = await probeQ.getCompleted(0, 100);
    expect(new Set(done.map((j) => j.processedBy)).size).toBe(2);
    await probeQ.close();
    conn.disconnect();
    await Promise.all(ws.map((w) => stopWorker(w)));
    for (const w of ws) expect(w.output()).toContain("stopped");
  });

  it("with a standing `worker --queues ingest`, crawl --distributed only enqueues and watches", async () => {
    const seeds = writeSeeds(join(tmp, "so-seeds"), fixture.url, 5);
    const d = deployment("so");
    const writerDb = join(tmp, "so-writer", "catalog.db");
    const writer = spawnWorker({ ...d.env, MCP_CENSUS_DB: writerDb }, ["--queues", "ingest"]);
    workers.push(writer);
    await until(() => writer.output().includes("working on ingest"), 30_000);
    const [stage] = startWorkers(d.env, 1);
    const cli = startCli(["crawl", "--distributed", "--no-outputs", "--registry-path", seeds], d.env);
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the catalog is written by the ingest consumer \S+\/\d+\//);
    expect(r.stdout).toMatch(/5 servers, 5 probed \(ok 5\), 15 tools listed/);
    checkCatalog(writerDb, 5);
    if (stage) await stopWorker(stage);
    await stopWorker(writer);
    expect(writer.output()).toContain("stopped");
  });

  it("kill -9 of a worker in the middle of probing: the crawl completes, nothing twice", async () => {
    const seeds = writeSeeds(join(tmp, "kp-seeds"), fixture.url, 8, { delayMs: 1500 });
    const d = deployment("kp");
    const [victim, survivor] = startWorkers(d.env, 2, ["--concurrency", "2"]);
    const before = new Map(fixture.listed);
    const cli = startCli(["crawl", "--distributed", "--no-outputs", "--registry-path", seeds], d.env);
    // Both workers hold probes in flight (4 tools/list requests answered late) when the victim dies.
    await until(
      () => [...fixture.listed.entries()].filter(([n, c]) => n < 8 && c > (before.get(n) ?? 0)).length >= 4,
      30_000,
      20,
    );
    victim?.proc.kill("SIGKILL");
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/8 servers, 8 probed \(ok 8\), 24 tools listed/);
    checkCatalog(join(d.dir, "catalog.db"), 8);
    // The victim's probes were taken over: some server was listed a second time.
    const again = [...fixture.listed.entries()].filter(([n, c]) => n < 8 && c - (before.get(n) ?? 0) > 1);
    expect(again.length).toBeGreaterThan(0);
    if (survivor) await stopWorker(survivor);
  });

  it("kill -9 of a worker in the middle of classifying: the crawl completes, every tool classified once", async () => {
    let llm: LlmFixture | undefined;
    try {
      llm = await startLlmFixture({ delayMs: 1200 });
      const seeds = writeSeeds(join(tmp, "kc-seeds"), fixture.url, 6);
      const d = deployment("kc", {
        OPENAI_BASE_URL: llm.baseUrl,
        OPENAI_API_KEY: "test-key",
        MCP_CENSUS_LLM_THRESHOLD: "1",
      });
      const [victim, survivor] = startWorkers(d.env, 2, ["--classify-concurrency", "2"]);
      const cli = startCli(["crawl", "--distributed", "--no-outputs", "--registry-path", seeds], d.env);
      await until(() => (llm?.stats.requests ?? 0) >= 3, 30_000, 20);
      victim?.proc.kill("SIGKILL");
      const r = await cli.done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/6 servers, 6 probed \(ok 6\), 18 tools listed/);
      checkCatalog(join(d.dir, "catalog.db"), 6);
      const cat = openCatalog(join(d.dir, "catalog.db"), { readonly: true });
      const sources = cat.sqlite
        .prepare(
          "SELECT c.source AS source, COUNT(*) AS n FROM tools t JOIN classifications c ON c.hash = t.hash GROUP BY 1",
        )
        .all() as { source: string; n: number }[];
      cat.close();
      // Every tool went through the LLM path (answers, or the cache) — none fell back because a worker died.
      expect(sources.filter((s) => s.source === "heuristic")).toEqual([]);
      if (survivor) await stopWorker(survivor);
    } finally {
      await llm?.close();
    }
  });

  it("a re-crawl reuses unchanged pinned stdio listings as the embedded crawl does, and --reprobe relaunches them", async () => {
    // Two real published servers from devDependencies, pinned, resolved from node_modules (no network).
    const nm = join(ROOT, "node_modules");
    const seed = ["server-memory", "server-sequential-thinking"].map((n) => {
      const pkg = `@modelcontextprotocol/${n}`;
      const version = JSON.parse(readFileSync(join(nm, pkg, "package.json"), "utf8")).version as string;
      return {
        name: `io.github.modelcontextprotocol/${n}`,
        description: `${pkg} from the test seed`,
        version,
        packages: [{ registryType: "npm", identifier: pkg, version, transport: { type: "stdio" } }],
      };
    });
    const seeds = join(tmp, "ru-seeds");
    mkdirSync(seeds, { recursive: true });
    writeFileSync(join(seeds, "servers.json"), JSON.stringify(seed));
    const d = deployment("ru", { MCP_CENSUS_RESOLVE_FROM: nm });
    const [w] = startWorkers(d.env, 1);
    const crawl = async (extra: string[] = []) => {
      const r = await startCli(
        ["crawl", "--distributed", "--no-outputs", "--json", "--registry-path", seeds, ...extra],
        d.env,
      ).done;
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as {
        probed: number;
        reused?: number;
        tools: number;
        outcomes: Record<string, number>;
      };
    };
    const first = await crawl();
    expect(first.probed).toBe(2);
    expect(first.outcomes).toEqual({ ok: 2 });
    expect(first.tools).toBeGreaterThan(2);
    // Nothing changed: no probe job is sent to a worker, and the run still counts the listings' tools.
    const second = await crawl();
    expect(second.probed).toBe(0);
    expect(second.reused).toBe(2);
    expect(second.tools).toBe(first.tools);
    const third = await crawl(["--reprobe"]);
    expect(third.probed).toBe(2);
    expect(third.reused ?? 0).toBe(0);
    expect(third.tools).toBe(first.tools);
    const cat = openCatalog(join(d.dir, "catalog.db"), { readonly: true });
    const probes = cat.sqlite.prepare("SELECT COUNT(*) AS n FROM probes").get() as { n: number };
    cat.close();
    expect(probes.n).toBe(4);
    if (w) await stopWorker(w);
  });
});
