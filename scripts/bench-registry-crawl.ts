// Crawls a loopback replay of the official registry at its real size into a fresh SQLite file (discover and merge
// only, as `crawl --no-probe`): wall time and peak memory. Usage: tsx scripts/bench-registry-crawl.ts [servers]
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crawlSource, createAdapter } from "../src/registries/index.js";
import { openCatalog } from "../src/store/db.js";

const SEED = join(import.meta.dirname, "../../shared/fixtures/registries/official/seed_2025-09-29_358.json");
const PAGE = 100;

/** n distinct servers made by varying the real seed entries: names, packages, repositories and remotes change. */
function generate(n: number): string[] {
  const seed = JSON.parse(readFileSync(SEED, "utf8")) as Record<string, unknown>[];
  const pages: string[] = [];
  let batch: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const base = seed[i % seed.length]!;
    const v = Math.floor(i / seed.length);
    const server = structuredClone(base) as {
      name: string;
      packages?: { identifier: string }[];
      remotes?: { url: string }[];
      repository?: { url: string };
    };
    server.name = v ? `${base.name}-v${v}` : server.name;
    for (const p of server.packages ?? []) p.identifier = v ? `${p.identifier}-v${v}` : p.identifier;
    for (const r of server.remotes ?? []) r.url = v ? `${r.url}/v${v}` : r.url;
    if (server.repository && v) server.repository.url = `${server.repository.url}-v${v}`;
    const stamp = new Date(Date.UTC(2025, 8, 1) + i * 60_000).toISOString();
    batch.push({
      server,
      _meta: {
        "io.modelcontextprotocol.registry/official": {
          status: "active",
          publishedAt: stamp,
          updatedAt: stamp,
          isLatest: true,
        },
      },
    });
    if (batch.length === PAGE || i === n - 1) {
      const next = i === n - 1 ? undefined : Buffer.from(String(i + 1)).toString("base64url");
      pages.push(JSON.stringify({ servers: batch, metadata: { count: batch.length, nextCursor: next } }));
      batch = [];
    }
  }
  return pages;
}

/** The replay runs in a child process so the crawler's memory is measured alone. */
async function serve(n: number): Promise<void> {
  const pages = generate(n);
  const byCursor = new Map<string, string>();
  for (const [i, p] of pages.entries()) {
    byCursor.set(i === 0 ? "" : Buffer.from(String(i * PAGE)).toString("base64url"), p);
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const body = byCursor.get(url.searchParams.get("cursor") ?? "");
    res.writeHead(body ? 200 : 404, { "content-type": "application/json" });
    res.end(body ?? "{}");
  });
  server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 25_000);
  if (process.argv.includes("--serve")) return serve(n);
  const child = fork(import.meta.filename, [String(n), "--serve"], { execArgv: ["--import", "tsx"] });
  const port = await new Promise<number>((r) => child.once("message", (m: { port: number }) => r(m.port)));
  const dir = mkdtempSync(join(tmpdir(), "mcp-census-bench-"));
  const dbPath = join(dir, "catalog.db");
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const t0 = performance.now();
    const cat = openCatalog(dbPath);
    const adapter = createAdapter("official", { baseUrl: `http://127.0.0.1:${port}` });
    // Split the wall time: fetching and normalising pages vs storing them.
    let fetchMs = 0;
    const timed = {
      ...adapter,
      fetchPage: async (...args: Parameters<typeof adapter.fetchPage>) => {
        const t = performance.now();
        try {
          return await adapter.fetchPage(...args);
        } finally {
          fetchMs += performance.now() - t;
        }
      },
    };
    const stats = await crawlSource(cat.sqlite, timed);
    const wallMs = performance.now() - t0;
    const servers = (cat.sqlite.prepare("SELECT count(*) AS n FROM servers").get() as { n: number }).n;
    cat.close();
    clearInterval(sampler);
    peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
    const figures = {
      servers,
      pages: stats.pages,
      entries: stats.entries,
      errors: stats.errors,
      complete: stats.complete,
      wallSeconds: Number((wallMs / 1000).toFixed(2)),
      fetchAndNormaliseSeconds: Number((fetchMs / 1000).toFixed(2)),
      storeSeconds: Number(((wallMs - fetchMs) / 1000).toFixed(2)),
      peakRssMb: Math.round(peak / 1024 / 1024),
      dbMb: Number((statSync(dbPath).size / 1024 / 1024).toFixed(1)),
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    // Fewer servers than entries is expected: the seed has two entries publishing one npm package, merged per copy.
    if (!stats.complete || stats.entries !== n) process.exitCode = 1;
  } finally {
    clearInterval(sampler);
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
