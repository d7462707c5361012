/**
 * Benchmark of the static site build: a full build of a generated catalog against the physical floor (the same
 * number of files of the same sizes written with plain fs in the same run), then incremental rebuilds.
 *
 *   npx tsx scripts/bench-site.ts --servers 40000 --tools 500000 [--dir data/bench] [--reuse]
 *
 * Each measured step runs in its own child process so its peak RSS is its own.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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

/** Runs one phase of this script in a child process and returns its JSON line. */
function child(phase: string, extra: string[]): Record<string, number | string | boolean> {
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
  const db = arg("db")!;
  const site = arg("site")!;
  const t0 = performance.now();
  if (name === "build" || name === "rebuild") {
    const cat = openCatalog(db, { readonly: true });
    const r = await buildSite(cat.sqlite, site, { baseUrl: "https://census.example/", full: name === "build" });
    cat.close();
    console.log(JSON.stringify({ ms: Math.round(performance.now() - t0), peakMb: peakMb(), ...r }));
  } else if (name === "change-one") {
    // One server's probe sees one tool with a new description: the realistic smallest change.
    const cat = openCatalog(db);
    const id = Number(arg("server", "1"));
    const tools = serverTools(cat.sqlite, id);
    const raws = tools.map((t) => t.raw);
    if (raws[0]) raws[0] = { ...raws[0], description: `${raws[0].description ?? ""} (changed ${Date.now()})` };
    const now = new Date().toISOString();
    ingestProbe(
      cat.sqlite,
      id,
      {
        outcome: "ok",
        transport: "stdio",
        launch: {},
        startedAt: now,
        durationMs: 500,
        timings: {},
        tools: raws,
        prompts: [],
        resources: [],
        resourceTemplates: [],
        placeholders: [],
        warnings: [],
      },
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
  execFileSync("sync");
  log("full build…");
  const full = child("build", ["--db", db, "--site", site]);
  execFileSync("sync");
  log(`full build: ${JSON.stringify(full)}`);
  const du = (d: string) =>
    Number(execFileSync("du", ["-s", "--block-size=1", d], { encoding: "utf8" }).split(/\s/)[0]);
  const siteDisk = du(site);
  const search = listFiles(join(site, "search"));
  log("floor…");
  const fl = child("floor", ["--site", site, "--floor", floor]);
  execFileSync("sync");
  log(`floor: ${JSON.stringify(fl)}`);
  rmSync(floor, { recursive: true, force: true });
  log("rebuild with no change…");
  const noop = child("rebuild", ["--db", db, "--site", site]);
  log(`no-change rebuild: ${JSON.stringify(noop)}`);
  const ch = child("change-one", ["--db", db, "--server", "1"]);
  log(`changed server 1 (${ch.tools} tools)`);
  const inc = child("rebuild", ["--db", db, "--site", site]);
  log(`incremental rebuild: ${JSON.stringify(inc)}`);
  const result = {
    catalog: { servers, tools },
    fullBuild: {
      ms: full.ms,
      peakMb: full.peakMb,
      files: full.pagesWritten,
      bytes: full.bytes,
      diskBytes: siteDisk,
      searchShards: full.searchShards,
      searchBytes: full.searchBytes,
      largestShardBytes: Math.max(...search.map((f) => f.size)),
    },
    floor: { ms: fl.ms, files: fl.files, bytes: fl.bytes, peakMb: fl.peakMb },
    ratioToFloor: Math.round(((full.ms as number) / (fl.ms as number)) * 100) / 100,
    noChangeRebuild: { ms: noop.ms, written: noop.pagesWritten, peakMb: noop.peakMb },
    incrementalOneServer: {
      ms: inc.ms,
      written: inc.pagesWritten,
      deleted: inc.pagesDeleted,
      serversRendered: inc.serversRendered,
      peakMb: inc.peakMb,
    },
  };
  console.log(JSON.stringify(result, null, 2));
}

await main();
