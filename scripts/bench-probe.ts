/**
 * Probe benchmark: the devDependency MCP servers with a warm install cache, one at a time and 4 at a time,
 * sandboxed vs unsandboxed side by side, against a bare SDK client and (when installed) the MCP Inspector CLI; then
 * per server cold (empty install and npm caches: download, install, launch, list) and warm (same caches again),
 * `probe npm:<pkg>@<ver>` against the Inspector CLI running `npx -y <pkg>@<ver>` — how a person lists a published
 * server with it — interleaved in the same run.
 * Usage: npx tsx scripts/bench-probe.ts [--runs 5] [--cold-runs 2] [--only-cold]
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { type ProbeOptions, probe } from "../src/mcp/index.js";

const SERVERS = [
  "@modelcontextprotocol/server-everything",
  "@modelcontextprotocol/server-memory",
  "@modelcontextprotocol/server-sequential-thinking",
];
const nodeModules = resolve("node_modules");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const coldArg = process.argv.indexOf("--cold-runs");
const COLD_RUNS = coldArg > 0 ? Number(process.argv[coldArg + 1]) : 2;

const opts: ProbeOptions = {
  cacheDir: join(tmpdir(), "mcp-census-bench-cache"),
  timeoutMs: 60_000,
  installTimeoutMs: 300_000,
  allowInstallScripts: false,
  allowUnsandboxed: true,
  allowPrivateNetwork: false,
  memoryLimitMb: 2048,
  resolveFrom: [nodeModules],
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

async function timeProbe(pkg: string, unsandboxed: boolean): Promise<{ ms: number; tools: number; listMs: number }> {
  const t = performance.now();
  const r = await probe(
    { kind: "package", pkg: { registryType: "npm", identifier: pkg } },
    { ...opts, forceUnsandboxed: unsandboxed },
  );
  if (r.outcome !== "ok") throw new Error(`${pkg}: ${r.outcome} ${r.error ?? ""}`);
  return { ms: Math.round(performance.now() - t), tools: r.tools.length, listMs: r.timings.spawnToListedMs ?? 0 };
}

/** A bare SDK client listing the same server: the floor any careful probe is measured against. */
async function timeSdk(pkg: string): Promise<number> {
  const t = performance.now();
  const client = new Client({ name: "bench", version: "0" });
  const bin = join(nodeModules, pkg, "dist/index.js");
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [bin], stderr: "ignore" }));
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    cursor = page.nextCursor;
  } while (cursor);
  await client.close();
  return Math.round(performance.now() - t);
}

function inspectorCli(): string | undefined {
  // The Inspector needs Node 22 from 0.16 on; 0.15.0 runs on Node 20. Install it anywhere and point INSPECTOR_BIN at it:
  //   npm install --prefix /tmp/insp @modelcontextprotocol/inspector@0.15.0
  //   INSPECTOR_BIN=/tmp/insp/node_modules/.bin/mcp-inspector npx tsx scripts/bench-probe.ts
  const bin = process.env.INSPECTOR_BIN ?? join(nodeModules, ".bin", "mcp-inspector");
  return existsSync(bin) ? bin : undefined;
}

function timeInspector(bin: string, pkg: string): number {
  const t = performance.now();
  const r = spawnSync(
    bin,
    ["--cli", process.execPath, join(nodeModules, pkg, "dist/index.js"), "--method", "tools/list"],
    {
      stdio: "ignore",
      timeout: 60_000,
    },
  );
  if (r.status !== 0) throw new Error(`inspector failed on ${pkg}`);
  return Math.round(performance.now() - t);
}

/** A fresh HOME with an empty npm cache (the machine's ~/.npmrc copied so registry settings hold). */
function freshHome(): string {
  const home = mkdtempSync(join(tmpdir(), "mcp-census-bench-home-"));
  const rc = join(process.env.HOME ?? "/root", ".npmrc");
  if (existsSync(rc)) copyFileSync(rc, join(home, ".npmrc"));
  return home;
}

/** Our probe of npm:<pkg>@<ver>, sandboxed, with the given install cache and npm cache (HOME). */
async function timeOurs(spec: string, cacheDir: string, home: string): Promise<number> {
  const saved = { HOME: process.env.HOME, cache: process.env.npm_config_cache };
  process.env.HOME = home;
  process.env.npm_config_cache = join(home, ".npm");
  try {
    const at = spec.lastIndexOf("@");
    const t = performance.now();
    const r = await probe(
      { kind: "package", pkg: { registryType: "npm", identifier: spec.slice(0, at), version: spec.slice(at + 1) } },
      { ...opts, cacheDir, resolveFrom: [], allowUnsandboxed: false },
    );
    if (r.outcome !== "ok") throw new Error(`${spec}: ${r.outcome} ${r.error ?? ""}`);
    return Math.round(performance.now() - t);
  } finally {
    process.env.HOME = saved.HOME;
    if (saved.cache === undefined) delete process.env.npm_config_cache;
    else process.env.npm_config_cache = saved.cache;
  }
}

/** The Inspector CLI listing tools of `npx -y <pkg>@<ver>` with HOME (so npx's cache) at the given folder. */
function timeInspectorNpx(bin: string, spec: string, home: string): number {
  const t = performance.now();
  const r = spawnSync(bin, ["--cli", "npx", "-y", spec, "--method", "tools/list"], {
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 300_000,
    env: { ...process.env, HOME: home, npm_config_cache: join(home, ".npm") },
  });
  if (r.status !== 0) throw new Error(`inspector failed on ${spec}: ${r.stderr?.toString().slice(-300)}`);
  return Math.round(performance.now() - t);
}

/** Cold and warm per server, ours against the Inspector CLI, interleaved. */
function coldWarm(inspector: string | undefined): Promise<void> {
  return (async () => {
    console.log(
      `\nCold (empty caches: download + install + launch + list) and warm (same caches again), ${COLD_RUNS} rounds, median ms:\n`,
    );
    console.log("| server | probe cold | Inspector CLI + npx cold | probe warm | Inspector CLI + npx warm |");
    console.log("|---|---|---|---|---|");
    for (const pkg of SERVERS) {
      const version = JSON.parse(readFileSync(join(nodeModules, pkg, "package.json"), "utf8")).version as string;
      const spec = `${pkg}@${version}`;
      const cells: Record<string, number[]> = { oc: [], ic: [], ow: [], iw: [] };
      for (let i = 0; i < COLD_RUNS; i++) {
        const ourHome = freshHome();
        const ourCache = mkdtempSync(join(tmpdir(), "mcp-census-bench-install-"));
        const inspHome = freshHome();
        try {
          cells.oc!.push(await timeOurs(spec, ourCache, ourHome));
          if (inspector) cells.ic!.push(timeInspectorNpx(inspector, spec, inspHome));
          cells.ow!.push(await timeOurs(spec, ourCache, ourHome));
          if (inspector) cells.iw!.push(timeInspectorNpx(inspector, spec, inspHome));
        } finally {
          for (const d of [ourHome, ourCache, inspHome]) rmSync(d, { recursive: true, force: true });
        }
      }
      const m = (k: string) => (cells[k]!.length ? String(median(cells[k]!)) : "not measured");
      console.log(
        `| ${pkg.replace("@modelcontextprotocol/", "")} ${version} | ${m("oc")} | ${m("ic")} | ${m("ow")} | ${m("iw")} |`,
      );
    }
  })();
}

async function main(): Promise<void> {
  if (process.argv.includes("--only-cold")) return coldWarm(inspectorCli());
  console.log(`node ${process.version}, ${RUNS} runs per cell, warm cache (resolveFrom ${nodeModules})\n`);
  // One untimed pass warms the page cache and the module cache.
  for (const pkg of SERVERS) await timeProbe(pkg, false);

  const inspector = inspectorCli();
  const rows: string[] = [];
  for (const pkg of SERVERS) {
    const sandboxed: number[] = [];
    const bare: number[] = [];
    const sdk: number[] = [];
    const insp: number[] = [];
    let tools = 0;
    let listMs: number[] = [];
    // Interleaved so both launches see the same machine load.
    for (let i = 0; i < RUNS; i++) {
      const s = await timeProbe(pkg, false);
      sandboxed.push(s.ms);
      listMs.push(s.listMs);
      tools = s.tools;
      bare.push((await timeProbe(pkg, true)).ms);
      sdk.push(await timeSdk(pkg));
      if (inspector) insp.push(timeInspector(inspector, pkg));
    }
    listMs = [median(listMs)];
    const overhead = median(sandboxed) - median(bare);
    rows.push(
      `| ${pkg.replace("@modelcontextprotocol/", "")} | ${tools} | ${median(sandboxed)} | ${listMs[0]} | ${median(bare)} | ${overhead >= 0 ? "+" : ""}${overhead} | ${median(sdk)} | ${inspector ? median(insp) : "not measured"} |`,
    );
  }
  console.log("One at a time (ms, median):\n");
  console.log(
    "| server | tools | probe, sandboxed | of which spawn→listed | probe, unsandboxed | sandbox overhead | bare SDK client, unsandboxed | Inspector CLI |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);

  // Concurrency 4: RUNS rounds of every server, 4 probes in flight.
  const jobs = Array.from({ length: RUNS }, () => SERVERS).flat();
  const perServer = new Map<string, number[]>();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < jobs.length) {
        const pkg = jobs[next++]!;
        const { ms } = await timeProbe(pkg, false);
        perServer.set(pkg, [...(perServer.get(pkg) ?? []), ms]);
      }
    }),
  );
  const wall = Math.round(performance.now() - t0);
  console.log(
    `\nConcurrency 4, sandboxed: ${jobs.length} probes in ${wall} ms (${((jobs.length * 1000) / wall).toFixed(2)} probes/s)\n`,
  );
  console.log("| server | median ms at concurrency 4 |");
  console.log("|---|---|");
  for (const [pkg, ms] of perServer) console.log(`| ${pkg.replace("@modelcontextprotocol/", "")} | ${median(ms)} |`);
  if (!inspector)
    console.log("\nMCP Inspector CLI: not installed (node_modules/.bin/mcp-inspector missing), not measured.");
  await coldWarm(inspector);
}

main().catch((err) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
