/**
 * Issue 17 item 10: a distributed crawl whose Redis lost its data (restarted without persistence) waited 240 s
 * printing multi-line ECONNREFUSED traces. Now the lost run state is detected: the crawl fails with one clear line
 * and a non-zero exit, the run's catalog row is not left `running`, and each reconnect is logged on one line.
 *
 * Real parts: a private redis-server without persistence (SIGKILLed and started again empty), real worker processes,
 * the real CLI, a real MCP server over loopback HTTP, a real SQLite catalog.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
import { type FixtureServer, startFixtureServer } from "../fixtures/jobs/mcp-http-fixture.js";

let fixture: FixtureServer;
let tmp: string;
const workers: WorkerProc[] = [];
let redis: RedisProc;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "redis-loss-"));
  fixture = await startFixtureServer();
  redis = await startRedis(); // no persistence: a restart comes back empty
});

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorker(w, 2_000)));
  await redis?.stop();
  await fixture?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("Redis loses its data mid-crawl (issue 17 item 10)", () => {
  it("the crawl fails with one clear line and a non-zero exit; reconnects are one line each", async () => {
    const env = {
      REDIS_URL: redis.url,
      MCP_CENSUS_QUEUE_PREFIX: "t-loss",
      MCP_CENSUS_ALLOW_PRIVATE_NETWORK: "1",
      MCP_CENSUS_DATA_DIR: join(tmp, "data"),
    };
    const seeds = writeSeeds(join(tmp, "seeds"), fixture.url, 12, { delayMs: 1_500 });
    const w = spawnWorker({ ...env, MCP_CENSUS_DATA_DIR: join(tmp, "w") }, [
      "--lock-duration",
      "2000",
      "--stalled-interval",
      "1000",
      "--concurrency",
      "2",
    ]);
    workers.push(w);
    const before = [...fixture.listed.values()].reduce((a, b) => a + b, 0);
    const t0 = Date.now();
    const cli = startCli(["crawl", "--distributed", "--no-outputs", "--registry-path", seeds], env, 120_000);
    await until(() => [...fixture.listed.values()].reduce((a, b) => a + b, 0) - before >= 2, 30_000, 20);
    await redis.restart(2_000);
    const r = await cli.done;
    const elapsed = Date.now() - t0;

    expect(r.code, r.stderr).not.toBe(0);
    expect(r.code, r.stderr).not.toBeNull(); // ended by itself, not by the test's timeout
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("mcp-census:"));
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(/Redis lost its data/);
    expect(errors[0]).toMatch(/crawl run \S+/);
    // No stack traces, no multi-line ioredis errors.
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toMatch(/Unhandled error event/);
    // Reconnect notices are single lines saying who lost the connection, not one per attempt.
    const refused = r.stderr.split("\n").filter((x) => /ECONNREFUSED/.test(x));
    for (const l of refused)
      expect(l).toMatch(/^(redis|ingest): connect ECONNREFUSED 127\.0\.0\.1:\d+( \(reconnecting\))?$/);
    expect(refused.length).toBeLessThanOrEqual(4);
    expect(elapsed).toBeLessThan(60_000);

    // The catalog's row for the run is not left running.
    const cat = openCatalog(join(tmp, "data", "catalog.db"), { readonly: true });
    try {
      const runs = cat.sqlite.prepare("SELECT status, stats FROM crawl_runs").all() as {
        status: string;
        stats: string;
      }[];
      expect(runs.map((x) => x.status)).toEqual(["failed"]);
      expect(JSON.parse(runs[0]!.stats).error).toMatch(/Redis lost its data/);
    } finally {
      cat.close();
    }

    // The worker lived through it and logged its reconnects one line each.
    expect(w.proc.exitCode).toBeNull();
    expect(w.output()).not.toMatch(/^\s+at /m);
    expect(w.output()).not.toMatch(/Unhandled error event/);
  }, 150_000);
});
