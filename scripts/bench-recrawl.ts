/**
 * No-change re-crawl of the seed registry from a warm install cache: `crawl` (reuses a listing whose pinned package,
 * launch and probe are unchanged) against `crawl --reprobe` (relaunches every server: what every crawl did before),
 * alternating in the same run on the same catalog, so load on the machine falls on both alike.
 *
 * Usage: node --import tsx scripts/bench-recrawl.ts [--rounds 3] [--cache /tmp/mcp-census-recrawl-cache]
 *        [--data /tmp/mcp-census-recrawl-data] [--seeds data/seeds] [--distributed]
 * --distributed: the same crawls with `--distributed`, on a redis-server started here on a free port and one
 * `mcp-census worker` process (the crawling CLI writes the catalog).
 * The first crawl (not timed as a re-crawl) fills the catalog and, on a cold cache, installs every package.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const rounds = Number(arg("rounds", "3"));
const cacheDir = resolve(arg("cache", join(tmpdir(), "mcp-census-recrawl-cache")));
const dataDir = resolve(arg("data", join(tmpdir(), "mcp-census-recrawl-data")));
const seedsDir = resolve(arg("seeds", "data/seeds"));
const bin = resolve("bin/mcp-census.js");
const distributed = process.argv.includes("--distributed");

/** A free loopback port (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((done) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

const children: ChildProcess[] = [];
let distributedEnv: Record<string, string> = {};
if (distributed) {
  const port = await freePort();
  children.push(
    spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    }),
  );
  await new Promise((r) => setTimeout(r, 500));
  distributedEnv = { REDIS_URL: `redis://127.0.0.1:${port}`, MCP_CENSUS_QUEUE_PREFIX: "bench-recrawl" };
  children.push(
    spawn(process.execPath, [bin, "worker"], {
      env: {
        ...process.env,
        ...distributedEnv,
        MCP_CENSUS_DATA_DIR: `${dataDir}-worker`,
        MCP_CENSUS_CACHE_DIR: cacheDir,
        MCP_CENSUS_LOG_LEVEL: "warn",
      },
      stdio: "ignore",
    }),
  );
}
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

interface Summary {
  servers: number;
  probed: number;
  reused?: number;
  outcomes: Record<string, number>;
  tools: number;
  durationMs: number;
}

/** One crawl in its own process, timed from spawn to exit (what a person or a cron job waits for). */
function crawl(extra: string[]): Promise<{ wallMs: number; summary: Summary }> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [bin, "crawl", "--json", ...(distributed ? ["--distributed"] : []), ...extra],
      {
        env: {
          ...process.env,
          ...distributedEnv,
          MCP_CENSUS_DATA_DIR: dataDir,
          MCP_CENSUS_CACHE_DIR: cacheDir,
          MCP_CENSUS_SEEDS_DIR: seedsDir,
          MCP_CENSUS_LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("close", (code) => {
      const wallMs = performance.now() - t0;
      try {
        done({ wallMs, summary: JSON.parse(out) as Summary });
      } catch {
        fail(new Error(`crawl exited ${code} without a summary: ${err.slice(-500)}`));
      }
    });
  });
}

/** The floor: the same CLI starting and exiting with no work (`--version`), timed the same way. */
function startup(): Promise<number> {
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, "--version"], { stdio: "ignore" });
    child.on("close", () => done(performance.now() - t0));
  });
}

const describe = (s: Summary) =>
  `${s.servers} servers, ${s.probed} probed (${Object.entries(s.outcomes)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")}), ${s.reused ?? 0} reused, ${s.tools} tools`;

rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
console.log(
  `${distributed ? "distributed (1 worker); " : ""}cache ${cacheDir}; catalog ${dataDir}; seeds ${seedsDir}; load ${loadavg().map((l) => l.toFixed(1))}`,
);
const first = await crawl(["--reprobe"]);
console.log(`first crawl: ${(first.wallMs / 1000).toFixed(1)} s — ${describe(first.summary)}`);

const times: Record<"reuse" | "reprobe" | "startup", number[]> = { reuse: [], reprobe: [], startup: [] };
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first so neither always follows the other.
  const order: ("reuse" | "reprobe")[] = r % 2 ? ["reprobe", "reuse"] : ["reuse", "reprobe"];
  for (const kind of order) {
    const res = await crawl(kind === "reprobe" ? ["--reprobe"] : []);
    times[kind].push(res.wallMs);
    console.log(
      `round ${r + 1} ${kind.padEnd(7)} ${(res.wallMs / 1000).toFixed(1)} s wall (${(res.summary.durationMs / 1000).toFixed(1)} s in the crawl) — ${describe(res.summary)}; load ${loadavg()[0]!.toFixed(1)}`,
    );
  }
  times.startup.push(await startup());
  console.log(`round ${r + 1} startup ${(times.startup.at(-1)! / 1000).toFixed(1)} s (mcp-census --version)`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `median no-change re-crawl: reuse ${(median(times.reuse) / 1000).toFixed(1)} s, --reprobe ${(median(times.reprobe) / 1000).toFixed(1)} s, CLI startup alone ${(median(times.startup) / 1000).toFixed(1)} s (${rounds} rounds)`,
);
if (distributed) process.exit(0);
