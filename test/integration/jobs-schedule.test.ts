import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registerSchedule } from "../../src/cli/schedule.js";
import { loadConfig } from "../../src/core/config.js";
import { workerClassifier } from "../../src/jobs/classifier.js";
import { startIngestConsumer } from "../../src/jobs/ingest-consumer.js";
import { closeQueues, createRedis, openQueues } from "../../src/jobs/queues.js";
import { listSchedules, parseEvery, upsertSchedule } from "../../src/jobs/schedules.js";
import { startStatusServer } from "../../src/jobs/status.js";
import { openCatalog } from "../../src/store/db.js";
import { type RedisProc, startRedis, until, writeSeeds } from "../fixtures/jobs/harness.js";

let redis: RedisProc;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "jobs-sched-"));
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs `mcp-census schedule …` in-process; returns stdout, stderr and the exit code it set. */
async function schedule(args: string[], prefix: string) {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err.push(String(s));
    return true;
  });
  const env = { REDIS_URL: process.env.REDIS_URL, MCP_CENSUS_QUEUE_PREFIX: process.env.MCP_CENSUS_QUEUE_PREFIX };
  process.env.REDIS_URL = redis.url;
  process.env.MCP_CENSUS_QUEUE_PREFIX = prefix;
  process.exitCode = undefined;
  try {
    const program = new Command()
      .option("--json")
      .option("-q, --quiet")
      .option("-c, --config <f>")
      .option("--data-dir <d>")
      .option("--db <f>");
    registerSchedule(program);
    await program.parseAsync(["node", "mcp-census", "schedule", ...args]);
    return { stdout: out.join(""), stderr: err.join(""), code: process.exitCode ?? 0 };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("schedule", () => {
  it("registers the default recurring crawls once, lists and removes them", async () => {
    const first = await schedule([], "t-sched");
    expect(first.code).toBe(0);
    const again = await schedule([], "t-sched");
    const strip = (t: string) => t.replace(/, next [^\n]+/g, "");
    expect(strip(again.stdout)).toBe(strip(first.stdout)); // registering again adds nothing
    const lines = again.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^official-full: cron "0 3 \* \* \*" UTC, official, next /);
    expect(lines[1]).toMatch(/^official-incremental: every 6 h, official \(incremental\), next /);

    const custom = await schedule(["--name", "seed-hourly", "--every", "1h", "--source", "seed"], "t-sched");
    expect(custom.stdout).toContain("seed-hourly: every 1 h, seed");
    expect((await schedule(["--remove", "official-full"], "t-sched")).stdout).toContain(
      "removed schedule official-full",
    );
    const left = await schedule(["--list", "--json"], "t-sched");
    expect((JSON.parse(left.stdout) as { name: string }[]).map((s) => s.name)).toEqual([
      "official-incremental",
      "seed-hourly",
    ]);

    const missing = await schedule(["--remove", "nope"], "t-sched");
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('mcp-census: no schedule named "nope"\n');
    const bad = await schedule(["--name", "x", "--every", "soon"], "t-sched");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--every must look like 30m, 6h or 1d");
    expect(parseEvery("90s")).toBe(90_000);
    expect(parseEvery("0.5s")).toBeUndefined();
  });

  it("a scheduled crawl is run by the ingest consumer, once per tick", async () => {
    const seeds = writeSeeds(join(tmp, "seeds"), "http://127.0.0.1:9", 3);
    const config = loadConfig(
      { dataDir: join(tmp, "data"), redisUrl: redis.url, queuePrefix: "t-tick" },
      { env: {}, cwd: tmp },
    );
    const conn = createRedis(redis.url);
    const queues = openQueues(conn, "t-tick");
    const cat = openCatalog(config.dbPath);
    const c = workerClassifier(config, { llm: false });
    const consumer = await startIngestConsumer({
      connection: conn,
      prefix: "t-tick",
      sqlite: cat.sqlite,
      config,
      classifier: { version: c.version, classify: c.lenient.classify },
      queues,
    });
    try {
      await upsertSchedule(queues.ingest, {
        name: "tick",
        every: 1_000,
        job: { sources: [{ id: "seed", path: seeds }], probe: false, outputs: false },
      });
      expect((await listSchedules(queues.ingest)).map((s) => s.name)).toEqual(["tick"]);
      const runs = await until(() => {
        const rows = cat.sqlite.prepare("SELECT mode, status FROM crawl_runs WHERE status = 'done'").all();
        return rows.length >= 2 ? rows : undefined;
      }, 20_000);
      expect((runs ?? []).length).toBeGreaterThanOrEqual(2);
      expect((runs ?? []).every((r) => (r as { mode: string }).mode === "distributed")).toBe(true);
      expect((cat.sqlite.prepare("SELECT COUNT(*) AS n FROM servers").get() as { n: number }).n).toBe(3);
      // The status page reads the same queues: the ingest consumer is connected, crawl jobs completed.
      const status = await startStatusServer(conn, "t-tick", queues, 0);
      try {
        const snap = (await (await fetch(`${status.url}/status.json`)).json()) as {
          queues: Record<string, { workers: number; completed: number }>;
        };
        expect(snap.queues.ingest?.workers).toBe(1);
        expect(snap.queues.ingest?.completed).toBeGreaterThanOrEqual(2);
        const html = await (await fetch(`${status.url}/`)).text();
        expect(html).toContain("<h1>mcp-census queues (t-tick)</h1>");
        expect((await fetch(`${status.url}/nope`)).status).toBe(404);
      } finally {
        await status.close();
      }
      // A second starter of the same deployment's writer is refused: exactly one process writes the catalog.
      await expect(
        startIngestConsumer({
          connection: conn,
          prefix: "t-tick",
          sqlite: cat.sqlite,
          config,
          classifier: { version: c.version, classify: c.lenient.classify },
          queues,
        }),
      ).rejects.toThrow(/another ingest consumer already writes the catalog/);
    } finally {
      await queues.ingest.removeJobScheduler("tick");
      await consumer.close();
      await closeQueues(queues);
      conn.disconnect();
      cat.close();
    }
  });
});
