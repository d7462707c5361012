/**
 * Benchmark of the static site build: a full build of a generated catalog against the physical floor (the same
 * number of files of the same sizes written with plain fs in the same run), then incremental rebuilds.
 *
 *   npx tsx scripts/bench-site.ts --servers 40000 --tools 500000 [--dir data/bench] [--reuse] [--rounds 1]
 *
 * --rounds 1 runs only the first round (build into an empty folder, then its floor): the second round (`--full` over
 * the site) doubles the run's length at 500k tools.
 *
 * Each measured step runs in its own child process so its peak RSS is its own.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { emptyProbeResult } from "../src/core/types.js";
import { buildSite } from "../src/site/index.js";
import { ingestProbe, saveClassification } from "../src/store/catalog.js";
import { openCatalog } from "../src/store/db.js";
import { serverTools } from "../src/store/queries.js";
import { generateCatalog } from "./gen-catalog.js";

const SELF = fileURLToPath(import.meta.url);

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
/** CPU time of this process (user + system), the figure least disturbed by other load on a shared machine. */
const cpuMs = () => {
  const u = process.resourceUsage();
  return Math.round((u.userCPUTime + u.systemCPUTime) / 1000);
};

/** Every file under dir with its size (relative paths). */
function listFiles(dir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, `${rel}/${e.name}`);
      else out.push({ path: `${rel}/${e.name}`, size: statSync(p).size });
    }
  };
  walk(dir, "");
  return out;
}

/** Fraction of the last 10 s in which some task waited on I/O (Linux pressure stall information), if known. */
function ioPressure(): number | undefined {
  try {
    const m = /some avg10=([\d.]+)/.exec(readFileSync("/proc/pressure/io", "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Puts the disk in the same state before every measured run: dirty pages written out, the page cache dropped when
 * allowed (root), and I/O quiet for a few seconds. Deleting a site of a million files leaves the file system
 * busy (journal commits, discards on a `discard` mount) for a while: measured here, the same floor took 6 s on a
 * quiet disk and 73 s right after such a delete.
 */
function settle(): void {
  execFileSync("sync");
  try {
    writeFileSync("/proc/sys/vm/drop_caches", "1\n");
  } catch {
    // not root: keep the cache
  }
  const until = Date.now() + 120_000;
  for (;;) {
    const p = ioPressure();
    if (p === undefined || p < 1 || Date.now() > until) break;
    execFileSync("sleep", ["2"]);
    execFileSync("sync");
  }
}

/** Runs one phase of this script in a child process and returns its JSON line. */
function child(phase: string, extra: string[]): Record<string, number | string | boolean | object> {
  const r = spawnSync(process.execPath, ["--import", "tsx", SELF, "--phase", phase, ...extra], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0) throw new Error(`phase ${phase} failed (${r.status})`);
  const last = r.stdout.trim().split("\n").pop() ?? "{}";
  return JSON.parse(last);
}

async function phase(name: string): Promise<void> {
  if (name === "settle") return settle();
  const db = arg("db")!;
  const site = arg("site")!;
  const t0 = performance.now();
  if (name === "build" || name === "rebuild") {
    const cat = openCatalog(db, { readonly: true });
    const w = arg("workers");
    const r = await buildSite(cat.sqlite, site, {
      baseUrl: "https://census.example/",
      full: name === "build",
      ...(w === undefined ? {} : { workers: Number(w) }),
    });
    cat.close();
    console.log(JSON.stringify({ ms: Math.round(performance.now() - t0), cpuMs: cpuMs(), peakMb: peakMb(), ...r }));
  } else if (name === "change-one") {
    // One server's probe sees one tool with a new description: the realistic smallest change.
    const cat = openCatalog(db);
    const id =
      Number(arg("server", "0")) ||
      (
        cat.sqlite.prepare("SELECT server_id AS id FROM tools WHERE removed_at IS NULL ORDER BY id LIMIT 1").get() as {
          id: number;
        }
      ).id;
    const tools = serverTools(cat.sqlite, id);
    const raws = tools.map((t) => t.raw);
    if (raws[0]) raws[0] = { ...raws[0], description: `${raws[0].description ?? ""} (changed ${Date.now()})` };
    const now = new Date().toISOString();
    ingestProbe(
      cat.sqlite,
      id,
      { ...emptyProbeResult("ok", "stdio"), startedAt: now, durationMs: 500, tools: raws },
      now,
    );
    for (const t of serverTools(cat.sqlite, id)) {
      if (!t.classification) {
        const c = tools[0]?.classification;
        if (c) saveClassification(cat.sqlite, t.hash, c);
      }
    }
    cat.close();
    console.log(JSON.stringify({ ms: Math.round(performance.now() - t0), tools: tools.length }));
  } else if (name === "floor") {
    // The physical floor: the same files (paths and sizes) written with plain fs, nothing else.
    const floor = arg("floor")!;
    const list = listFiles(site);
    const listedMs = performance.now() - t0;
    const t1 = performance.now();
    const cpuBefore = cpuMs();
    const made = new Set<string>();
    let bytes = 0;
    for (const f of list) {
      const p = join(floor, f.path);
      const d = dirname(p);
      if (!made.has(d)) {
        mkdirSync(d, { recursive: true });
        made.add(d);
      }
      writeFileSync(p, Buffer.alloc(f.size, 120));
      bytes += f.size;
    }
    console.log(
      JSON.stringify({
        ms: Math.round(performance.now() - t1),
        cpuMs: cpuMs() - cpuBefore,
        listMs: Math.round(listedMs),
        files: list.length,
        bytes,
        peakMb: peakMb(),
      }),
    );
  }
}

async function main(): Promise<void> {
  const p = arg("phase");
  if (p) return phase(p);
  const servers = Number(arg("servers", "2000"));
  const tools = Number(arg("tools", "25000"));
  const dir = resolve(arg("dir", "data/bench")!);
  const db = join(dir, `catalog-${servers}-${tools}.db`);
  const site = join(dir, "site");
  const floor = join(dir, "floor");
  mkdirSync(dir, { recursive: true });
  const log = (s: string) => process.stderr.write(`${s}\n`);
  if (!existsSync(db) || !process.argv.includes("--reuse")) {
    log(`generating ${servers} servers / ${tools} tools → ${db}`);
    const g = generateCatalog({ servers, tools, out: db, force: true });
    log(`generated in ${g.ms} ms`);
  }
  for (const d of [site, floor, `${site}.state.db`, `${site}.state.db-wal`, `${site}.state.db-shm`])
    rmSync(d, { recursive: true, force: true });
  // Timings include a final `sync`, so both the build and the floor pay for getting the bytes to disk; the disk here
  // is shared and noisy, so the full build and the floor are each run twice, alternating.
  const synced = <T extends Record<string, unknown>>(run: () => T): T & { syncedMs: number } => {
    settle();
    const t0 = performance.now();
    const r = run();
    execFileSync("sync");
    return { ...r, syncedMs: Math.round(performance.now() - t0) };
  };
  const builds: ReturnType<typeof child>[] = [];
  const floors: ReturnType<typeof child>[] = [];
  // Round 1 builds into an empty folder; round 2 is a `--full` build over the site round 1 left (every file
  // rewritten in place, which costs the file system more). The floor writes a fresh folder both times.
  const rounds = Math.min(2, Math.max(1, Number(arg("rounds", "2"))));
  for (let round = 1; round <= rounds; round++) {
    log(`full build ${round}…`);
    const b = synced(() => child("build", ["--db", db, "--site", site]));
    builds.push(b);
    log(`full build ${round}: ${JSON.stringify(b)}`);
    log(`floor ${round}…`);
    const f0 = synced(() => child("floor", ["--site", site, "--floor", floor]));
    // The floor's child first lists the site (sizes of a million files): not part of the floor's writing.
    const f = { ...f0, syncedMs: f0.syncedMs - (f0.listMs as number) };
    floors.push(f);
    log(`floor ${round}: ${JSON.stringify(f)}`);
    rmSync(floor, { recursive: true, force: true });
  }
  const full = builds[rounds - 1]!;
  const fl = floors[rounds - 1]!;
  const du = (d: string) =>
    Number(execFileSync("du", ["-s", "--block-size=1", d], { encoding: "utf8" }).split(/\s/)[0]);
  const siteDisk = du(site);
  const search = listFiles(join(site, "search"));
  log("rebuild with no change…");
  settle();
  const noop = child("rebuild", ["--db", db, "--site", site]);
  log(`no-change rebuild: ${JSON.stringify(noop)}`);
  // One server changes (one tool's description), then an incremental rebuild: three servers from different parts
  // of the catalog (first, middle and last by id), each measured once; the median is reported.
  const ids = (() => {
    const cat = openCatalog(db, { readonly: true });
    const all = cat.sqlite
      .prepare("SELECT DISTINCT server_id AS id FROM tools WHERE removed_at IS NULL ORDER BY server_id")
      .pluck()
      .all() as number[];
    cat.close();
    return [all[0], all[Math.floor(all.length / 2)], all[all.length - 1]].filter((x) => x !== undefined);
  })();
  const incs: ReturnType<typeof child>[] = [];
  for (const id of ids) {
    const ch = child("change-one", ["--db", db, "--server", String(id)]);
    log(`changed server ${id} (${ch.tools} tools)`);
    settle();
    const inc = child("rebuild", ["--db", db, "--site", site]);
    log(`incremental rebuild: ${JSON.stringify(inc)}`);
    incs.push({ ...inc, serverTools: ch.tools as number });
  }
  const inc = [...incs].sort((a, b) => (a.ms as number) - (b.ms as number))[Math.floor(incs.length / 2)]!;
  const mean = (xs: Record<string, unknown>[], k: string) => xs.reduce((n, x) => n + (x[k] as number), 0) / xs.length;
  const result = {
    catalog: { servers, tools },
    fullBuild: {
      runsMs: builds.map((b) => b.ms),
      runsWithSyncMs: builds.map((b) => b.syncedMs),
      runsCpuMs: builds.map((b) => b.cpuMs),
      peakMb: Math.max(...builds.map((b) => b.peakMb as number)),
      files: full.pagesWritten,
      bytes: full.bytes,
      diskBytes: siteDisk,
      searchShards: full.searchShards,
      searchBytes: full.searchBytes,
      largestShardBytes: Math.max(...search.map((f) => f.size)),
      timings: builds.map((b) => b.timings),
    },
    floor: {
      runsMs: floors.map((f) => f.ms),
      runsWithSyncMs: floors.map((f) => f.syncedMs),
      runsCpuMs: floors.map((f) => f.cpuMs),
      files: fl.files,
      bytes: fl.bytes,
      peakMb: fl.peakMb,
    },
    ratioToFloor: Math.round((mean(builds, "ms") / mean(floors, "ms")) * 100) / 100,
    ratioToFloorCpu: Math.round((mean(builds, "cpuMs") / mean(floors, "cpuMs")) * 100) / 100,
    ratioToFloorWithSync: Math.round((mean(builds, "syncedMs") / mean(floors, "syncedMs")) * 100) / 100,
    noChangeRebuild: { ms: noop.ms, cpuMs: noop.cpuMs, written: noop.pagesWritten, peakMb: noop.peakMb },
    incrementalOneServer: {
      runsMs: incs.map((x) => x.ms),
      ms: inc.ms,
      cpuMs: inc.cpuMs,
      written: inc.pagesWritten,
      deleted: inc.pagesDeleted,
      serversRendered: inc.serversRendered,
      peakMb: inc.peakMb,
      timings: inc.timings,
    },
  };
  console.log(JSON.stringify(result, null, 2));
}

await main();
