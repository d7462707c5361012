/**
 * HTTP API benchmark: the real app (hono + validation + ETag) against a bare node:http + better-sqlite3 handler doing
 * the same lookups, side by side in one run, on a generated catalog. Servers run in child processes; autocannon runs
 * here. Each request asks for a different tool/server/search (picked at random from the catalog), so nothing is
 * answered from one hot row.
 *
 *   npx tsx scripts/bench-api.ts [--servers 40000] [--tools 500000] [--db data/bench/api-catalog.db]
 *     [--duration 20] [--rounds 5] [--connections 50] [--out docs/benchmarks/api-figures.md] [--baseline <checkout>]
 *     [--only tool,server,search,mcp,stats,list] [--slice 1]
 *
 * Each round gives every arm duration/rounds seconds, cut into slices of --slice seconds that alternate between the
 * arms (the order turns at every alternation), so a burst of other work on the shared cores falls on one short slice
 * of one arm rather than on a third of its time. An arm's req/s is its requests over its seconds; "app / bare" is the
 * median over the alternations of the ratio of the two arms' slices in that alternation (a slice hit by a burst moves
 * one ratio of fifteen, not the mean), with the ratio of the totals beside it. Latency percentiles are over all of an
 * arm's answers.
 *
 * With --baseline, the app of another checkout (e.g. a worktree at an older commit) is served too and loaded in the
 * same alternating slices, so a change is compared with what it replaced under the same neighbours.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { serverRuntimes, serverTransports } from "../src/api/queries.js";
import type { RawTool } from "../src/core/types.js";
import { renderToolDiff } from "../src/history/diff.js";
import type { ServerRow } from "../src/store/queries.js";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};

interface AutocannonResult {
  requests: { average: number; total: number };
  /** Seconds the slice ran. */
  duration: number;
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  "2xx": number;
}
type Autocannon = ((opts: Record<string, unknown>) => Promise<AutocannonResult>) &
  ((
    opts: Record<string, unknown>,
    cb: (err: Error | null, r: AutocannonResult) => void,
  ) => { on: (ev: "response", fn: (client: unknown, status: number, bytes: number, ms: number) => void) => void });

// ---- the bare handler: hand-written SQL over cached statements, no framework ----
//
// It answers tool detail, server detail and search with the same bytes as the app (checked before each run: see
// `sameBodies`): the same SQL texts, the same fields in the same order, stored JSON columns spliced in the same way,
// the same diff of each version against the one before and the same change events. What it leaves out is the app's
// HTTP work: no routing framework, no query-string validation (a wrong path or parameter is a 404, not a 400), no
// ETag, If-None-Match or 304, no compression negotiation, no CORS, rate-limit, Vary or Cache-Control headers, no time
// budget on search (the app's qbudget() check per row), no problem-details errors, no resolution of a server by
// package, repository or short name (exact slug or name only).

function bareServer(dbPath: string): Promise<number> {
  const db = new Database(dbPath, { readonly: true });
  const cls = `LEFT JOIN classifications c ON c.hash = t.hash AND c.rowid = (
  SELECT c2.rowid FROM classifications c2 WHERE c2.hash = t.hash ORDER BY c2.created_at DESC, c2.rowid DESC LIMIT 1)`;
  const toolCols = `t.id, t.server_id, t.name, t.slug, t.title, t.description, t.input_schema, t.output_schema,
  t.annotations, t.raw, t.hash, t.first_seen, t.last_seen, t.removed_at,
  c.access AS c_access, c.destructive AS c_destructive, c.financial AS c_financial, c.category AS c_category,
  c.risk AS c_risk, c.confidence AS c_confidence, c.signals AS c_signals, c.flags AS c_flags, c.source AS c_source,
  c.classifier_version AS c_version`;
  const serverBrief = db.prepare("SELECT id, slug, name, status FROM servers WHERE slug = ? OR name = ?");
  const serverBy = db.prepare("SELECT * FROM servers WHERE slug = ? OR name = ?");
  const toolByName = db.prepare(`SELECT ${toolCols} FROM tools t ${cls} WHERE t.server_id = ? AND t.name = ?`);
  const toolBySlug = db.prepare(`SELECT ${toolCols} FROM tools t ${cls} WHERE t.server_id = ? AND t.slug = ?`);
  const versions = db.prepare(
    `SELECT hash, raw, first_seen AS firstSeen, last_seen AS lastSeen FROM tool_versions
     WHERE server_id = ? AND tool_name = ? ORDER BY first_seen, id`,
  );
  const changes = db.prepare(
    `SELECT c.id, c.server_id, s.name AS server, s.slug AS server_slug, c.probe_id, c.at, c.tool_name, c.kind,
  c.severity, c.reason, c.from_hash, c.to_hash, c.details FROM changes c JOIN servers s ON s.id = c.server_id
     WHERE c.server_id = ? AND c.tool_name = ? ORDER BY c.id`,
  );
  const toolsOf = db.prepare(
    `SELECT t.name, t.slug, t.title, length(t.raw) AS raw_len, c.category, c.risk, c.flags
     FROM tools t ${cls} WHERE t.server_id = ? AND t.removed_at IS NULL ORDER BY t.name`,
  );
  const probe = db.prepare(
    `SELECT outcome, started_at, duration_ms, transport, error, protocol_version, server_info, tool_count, warnings
     FROM probes WHERE server_id = ? ORDER BY id DESC LIMIT 1`,
  );
  const sources = db.prepare(
    `SELECT source_id AS sourceId, source_key AS sourceKey, status, first_seen AS firstSeen, last_seen AS lastSeen
     FROM sources WHERE server_id = ? ORDER BY source_id, source_key`,
  );
  // The same two-tier relevance as the app, over the same SQL (less the time budget): name/title matches, then the
  // rest, each in rowid order, the page's ids first and then their columns and classification.
  const search = db.prepare(
    `SELECT t.id, t.server_id, t.name, t.slug, t.title, t.description, t.annotations,
  c.access AS c_access, c.category AS c_category, c.risk AS c_risk, c.flags AS c_flags,
  s.name AS server_name, s.slug AS server_slug FROM
     (SELECT t.id AS pid, f.fid FROM (SELECT rowid AS fid FROM tools_fts WHERE tools_fts MATCH ? AND rowid > 0) f
       JOIN tools t ON t.id = f.fid JOIN servers s ON s.id = t.server_id
       WHERE t.removed_at IS NULL AND s.status != 'removed' ORDER BY f.fid LIMIT ?) page
     JOIN tools t ON t.id = page.pid JOIN servers s ON s.id = t.server_id ${cls} ORDER BY page.fid`,
  );
  const j = JSON.stringify as (v: unknown) => string;
  const or = (text: unknown, dflt: string) => (typeof text === "string" ? text : dflt);
  type Row = Record<string, unknown>;

  const toolDetail = (serverRef: string, toolRef: string): string | undefined => {
    const s = serverBrief.get(serverRef, serverRef) as { id: number; slug: string; name: string; status: string };
    if (!s) return undefined;
    const t = (toolByName.get(s.id, toolRef) ?? toolBySlug.get(s.id, toolRef)) as Row | undefined;
    if (!t) return undefined;
    const raw = t.raw as string;
    const vs = versions.all(s.id, t.name) as { hash: string; raw: string; firstSeen: string; lastSeen: string }[];
    let prev: RawTool | null = null;
    const history: string[] = [];
    let tokenText = raw;
    vs.forEach((v, i) => {
      const current = v.hash === t.hash;
      const def = current ? raw : v.raw;
      if (current) tokenText = v.raw;
      let diff = "[]";
      if (vs.length > 1) {
        const parsed = JSON.parse(def) as RawTool;
        if (i > 0 && prev) diff = j(renderToolDiff(prev, parsed));
        prev = parsed;
      }
      history.push(
        `{"hash":${j(v.hash)},"firstSeen":${j(v.firstSeen)},"lastSeen":${j(v.lastSeen)},"current":${current},"definition":${def},"diff":${diff}}`,
      );
    });
    const ch = (changes.all(s.id, t.name) as Row[]).map(
      (c) =>
        `{"id":${j(c.id)},"server":{"id":${j(c.server_id)},"slug":${j(c.server_slug)},"name":${j(c.server)}},"at":${j(c.at)},"tool":${j(c.tool_name)},"kind":${j(c.kind)},"severity":${j(c.severity)},"reason":${j(c.reason)},"fromHash":${j(c.from_hash)},"toHash":${j(c.to_hash)},"details":${or(c.details, "null")}}`,
    );
    const classification =
      t.c_access == null
        ? "null"
        : `{"access":${j(t.c_access)},"destructive":${!!t.c_destructive},"financial":${!!t.c_financial},"category":${j(t.c_category)},"risk":${j(t.c_risk)},"confidence":${j(t.c_confidence)},"signals":${or(t.c_signals, "[]")},"flags":${or(t.c_flags, "[]")},"source":${j(t.c_source)},"classifierVersion":${j(t.c_version)}}`;
    return `{"server":{"id":${s.id},"slug":${j(s.slug)},"name":${j(s.name)},"status":${j(s.status)}},"name":${j(t.name)},"slug":${j(t.slug)},"title":${j(t.title)},"description":${j(t.description)},"annotations":${or(t.annotations, "null")},"inputSchema":${or(t.input_schema, "null")},"outputSchema":${or(t.output_schema, "null")},"definition":${raw},"hash":${j(t.hash)},"firstSeen":${j(t.first_seen)},"lastSeen":${j(t.last_seen)},"removedAt":${j(t.removed_at)},"tokenCost":${Math.ceil(tokenText.length / 4)},"classification":${classification},"history":[${history.join(",")}],"changes":[${ch.join(",")}]}`;
  };

  const serverDetail = (ref: string): string | undefined => {
    const s = serverBy.get(ref, ref) as Row | undefined;
    if (!s) return undefined;
    const packages = JSON.parse(s.packages as string);
    const remotes = JSON.parse(s.remotes as string);
    const row = { packages, remotes } as ServerRow;
    const tools = toolsOf.all(s.id) as Row[];
    const byCategory: Record<string, number> = {};
    const byRisk: Record<string, number> = {};
    let chars = 2 + Math.max(0, tools.length - 1);
    const items: string[] = [];
    for (const t of tools) {
      const cat = (t.category as string) ?? "unclassified";
      const risk = (t.risk as string) ?? "unclassified";
      byCategory[cat] = (byCategory[cat] ?? 0) + 1;
      byRisk[risk] = (byRisk[risk] ?? 0) + 1;
      chars += t.raw_len as number;
      items.push(
        `{"name":${j(t.name)},"slug":${j(t.slug)},"title":${j(t.title)},"category":${j(t.category)},"risk":${j(t.risk)},"flags":${or(t.flags, "[]")},"tokenCost":${Math.ceil((t.raw_len as number) / 4)}}`,
      );
    }
    const sorted = (o: Record<string, number>) =>
      j(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    const p = probe.get(s.id) as Row | undefined;
    const probeJson = p
      ? `{"outcome":${j(p.outcome)},"startedAt":${j(p.started_at)},"durationMs":${j(p.duration_ms)},"transport":${j(p.transport)},"error":${j(p.error)},"protocolVersion":${j(p.protocol_version)},"serverInfo":${or(p.server_info, "null")},"toolCount":${j(p.tool_count)},"warnings":${or(p.warnings, "[]")}}`
      : "null";
    return `{"id":${j(s.id)},"slug":${j(s.slug)},"name":${j(s.name)},"title":${j(s.title)},"description":${j(s.description)},"version":${j(s.version)},"repositoryUrl":${j(s.repository_url)},"websiteUrl":${j(s.website_url)},"packages":${s.packages},"remotes":${s.remotes},"status":${j(s.status)},"firstSeen":${j(s.first_seen)},"lastSeen":${j(s.last_seen)},"lastProbeId":${j(s.last_probe_id)},"lastOkProbeAt":${j(s.last_ok_probe_at)},"updatedAt":${j(s.updated_at)},"transports":${j(serverTransports(row))},"runtimes":${j(serverRuntimes(row))},"probe":${probeJson},"toolCount":${tools.length},"byCategory":${sorted(byCategory)},"byRisk":${sorted(byRisk)},"tokenCost":${Math.ceil(chars / 4)},"sources":${j(sources.all(s.id))},"tools":[${items.join(",")}]}`;
  };

  const searchPage = (q: string, limit: number): string => {
    const terms = [...q.normalize("NFKC").matchAll(/([\p{L}\p{N}]+)(\*)?/gu)];
    const match = terms.map((m) => `"${m[1]}"${m[2] ? "*" : ""}`).join(" ");
    const rows: Row[] = [];
    const tiers: number[] = [];
    if (match) {
      for (const r of search.all(`{name title} : (${match})`, limit + 1) as Row[]) {
        rows.push(r);
        tiers.push(0);
      }
      if (rows.length <= limit) {
        for (const r of search.all(`(${match}) NOT ({name title} : (${match}))`, limit + 1 - rows.length) as Row[]) {
          rows.push(r);
          tiers.push(1);
        }
      }
    }
    const more = rows.length > limit;
    const kept = more ? rows.slice(0, limit) : rows;
    const cursor = more
      ? Buffer.from(JSON.stringify(["relevance", tiers[limit - 1], rows[limit - 1]!.id]), "utf8").toString("base64url")
      : null;
    const items = kept.map(
      (r) =>
        `{"server":{"id":${j(r.server_id)},"slug":${j(r.server_slug)},"name":${j(r.server_name)}},"name":${j(r.name)},"slug":${j(r.slug)},"title":${j(r.title)},"description":${j(r.description)},"annotations":${or(r.annotations, "null")},"category":${j(r.c_category)},"risk":${j(r.c_risk)},"access":${j(r.c_access)},"flags":${or(r.c_flags, "[]")}}`,
    );
    return `{"items":[${items.join(",")}],"nextCursor":${j(cursor)}}`;
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const parts = url.pathname.split("/").map(decodeURIComponent);
    let body: string | undefined;
    if (parts[2] === "tools" && parts.length === 5) body = toolDetail(parts[3]!, parts[4]!);
    else if (parts[2] === "servers" && parts.length === 4) body = serverDetail(parts[3]!);
    else if (parts[2] === "tools" && parts.length === 3)
      body = searchPage(url.searchParams.get("q") ?? "", Number(url.searchParams.get("limit") ?? 20));
    if (body === undefined) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(body);
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r((server.address() as AddressInfo).port)));
}

async function honoServer(dbPath: string): Promise<number> {
  const { serve } = await import("@hono/node-server");
  const { createApp } = await import("../src/api/app.js");
  const app = createApp({ sqlite: new Database(dbPath, { readonly: true }) });
  return new Promise((r) => {
    serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => r(info.port));
  });
}

// ---- the parent: generate, sample targets, start both servers, load them in turn ----

function startChild(
  kind: "hono" | "bare",
  db: string,
  checkout?: string,
): Promise<{ child: ChildProcess; port: number }> {
  const script = checkout ? resolve(checkout, "scripts/bench-api.ts") : fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ["--import", "tsx", script, "--child", kind, "--db", db], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((res, rej) => {
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /PORT (\d+)/.exec(buf);
      if (m) res({ child, port: Number(m[1]) });
    });
    child.once("exit", (code) => rej(new Error(`${kind} server exited (${code})`)));
  });
}

function sampleTargets(db: string, n: number) {
  const sqlite = new Database(db, { readonly: true });
  const max = (sqlite.prepare("SELECT max(id) AS m FROM tools").get() as { m: number }).m;
  const tool = sqlite.prepare(
    "SELECT s.slug, t.name FROM tools t JOIN servers s ON s.id = t.server_id WHERE t.id >= ? AND t.removed_at IS NULL LIMIT 1",
  );
  const tools: string[] = [];
  const servers: string[] = [];
  const toolRefs: { server: string; tool: string }[] = [];
  for (let i = 0; i < n; i++) {
    const r = tool.get(1 + Math.floor(Math.random() * max)) as { slug: string; name: string } | undefined;
    if (!r) continue;
    toolRefs.push({ server: r.slug, tool: r.name });
    tools.push(`/v1/tools/${encodeURIComponent(r.slug)}/${encodeURIComponent(r.name)}`);
    servers.push(`/v1/servers/${encodeURIComponent(r.slug)}`);
  }
  // Search words as users type them: one or two words of real tool names.
  const names = (
    sqlite.prepare("SELECT name FROM tools WHERE id % 997 = 0 LIMIT 2000").all() as { name: string }[]
  ).map((r) => r.name.split(/[_\-.]/).filter((w) => w.length >= 3));
  const searches: string[] = [];
  const searchWords: string[] = [];
  for (const words of names) {
    if (words.length === 0) continue;
    const q = words.slice(0, 1 + Math.floor(Math.random() * Math.min(2, words.length))).join(" ");
    searchWords.push(q);
    searches.push(`/v1/tools?q=${encodeURIComponent(q)}&limit=20`);
  }
  sqlite.close();
  return { tools, servers, searches, toolRefs, searchWords };
}

/** Asks both servers for the same paths and counts the answers whose status and body are byte-identical. */
async function sameBodies(
  appPort: number,
  barePort: number,
  paths: string[],
): Promise<{ n: number; same: number; firstDiff?: string }> {
  let same = 0;
  let firstDiff: string | undefined;
  for (const path of paths) {
    const [a, b] = await Promise.all(
      [appPort, barePort].map(async (port) => {
        const r = await fetch(`http://127.0.0.1:${port}${path}`);
        return `${r.status} ${await r.text()}`;
      }),
    );
    if (a === b) same++;
    else firstDiff ??= path;
  }
  return { n: paths.length, same, ...(firstDiff ? { firstDiff } : {}) };
}

async function main(): Promise<void> {
  const servers = Number(arg("servers", "40000"));
  const tools = Number(arg("tools", "500000"));
  const db = resolve(arg("db", "data/bench/api-catalog.db"));
  const duration = Number(arg("duration", "20"));
  const connections = Number(arg("connections", "50"));
  const rounds = Number(arg("rounds", "5"));
  const slice = Number(arg("slice", "1"));
  const out = arg("out", "docs/benchmarks/api-figures.md");
  // --only tool,server,search,mcp,stats,list: a subset of the scenarios (all by default).
  const only = new Set(arg("only", "tool,server,search,mcp,stats,list").split(","));
  const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

  if (!existsSync(db)) {
    process.stderr.write(`generating ${servers} servers / ${tools} tools into ${db}\n`);
    const { generateCatalog } = await import("./gen-catalog.js");
    mkdirSync(dirname(db), { recursive: true });
    generateCatalog({ servers, tools, out: db });
  }
  const sizes = new Database(db, { readonly: true });
  const counts = sizes
    .prepare(
      "SELECT (SELECT count(*) FROM servers) AS servers, (SELECT count(*) FROM tools) AS tools, (SELECT count(*) FROM tool_versions) AS versions",
    )
    .get() as { servers: number; tools: number; versions: number };
  sizes.close();
  const targets = sampleTargets(db, 5000);
  const loadBefore = loadavg()[0]!.toFixed(1);
  const baseline = arg("baseline", "");
  const hono = await startChild("hono", db);
  const bare = await startChild("bare", db);
  const base = baseline ? await startChild("hono", db, baseline) : undefined;
  const rows: string[] = [];
  const sameRows: string[] = [];
  const baseRows: string[] = [];
  const mcpRows: string[] = [];
  const raw: Record<string, unknown> = {};
  type Req = { method?: string; path: string; headers?: Record<string, string>; body?: string };
  type Arm = { label: string; port: number; pid?: number; next: () => Req; count: number };
  /** CPU time (user + system, ms) a child process has used so far, from /proc (Linux); undefined elsewhere. */
  const cpuMs = (pid: number | undefined): number | undefined => {
    if (!pid) return undefined;
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
    } catch {
      return undefined;
    }
  };
  const cycle = (reqs: Req[]) => {
    let i = 0;
    return { next: () => reqs[i++ % reqs.length] as Req, count: reqs.length };
  };
  const get = (paths: string[]) => paths.map((path) => ({ path }));
  const mcpCall = (name: string, args: Record<string, unknown>, id: number): Req => ({
    method: "POST",
    path: "/mcp",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } }),
  });
  const checkCalls = targets.toolRefs.map((r, i) => mcpCall("check_tool", { server: r.server, tool: r.tool }, i + 1));
  const searchCalls = targets.searchWords.map((q, i) => mcpCall("search_tools", { q, limit: 20 }, i + 1));
  // Summaries per arm: req/s its requests over its seconds, p50/p99 the median of its slices (worst slice kept),
  // errors summed. Each slice's req/s is its completed requests over the time it ran (autocannon's per-second
  // average would drop the last partial second of a short slice).
  const rate = (x: AutocannonResult) => x.requests.total / x.duration;
  const med = (xs: number[]) => {
    const v = [...xs].sort((x, y) => x - y);
    const m = Math.floor(v.length / 2);
    return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
  };
  const summarise = (scenario: string, label: string, r: AutocannonResult[], cpu: number[], ms: number[]) => {
    // Latency percentiles over every answer of every slice of the arm (a per-slice p99 of a 1 s slice is its tenth
    // slowest answer or so: one slow query that holds the thread for 50 queued requests moved it).
    const sorted = Float64Array.from(ms).sort();
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
    const o = {
      reqPerSec: r.reduce((n, x) => n + x.requests.total, 0) / r.reduce((n, x) => n + x.duration, 0),
      p50: at(0.5),
      p99: at(0.99),
      worstP99: Math.max(...r.map((x) => x.latency.p99)),
      sliceReqPerSec: r.map((x) => Math.round(rate(x))),
      // The server's CPU per answered request: what the arm costs, less swayed by neighbours than req/s.
      cpuMsPerReq: cpu.length ? cpu.reduce((n, x) => n + x, 0) / r.reduce((n, x) => n + x["2xx"] + x.non2xx, 0) : NaN,
      "2xx": r.reduce((n, x) => n + x["2xx"], 0),
      bad: r.reduce((n, x) => n + x.non2xx + x.errors + x.timeouts, 0),
      slices: r,
    };
    const { slices: _, ...shown } = o;
    raw[`${scenario} / ${label}`] = shown;
    process.stderr.write(`${scenario} ${label}: ${JSON.stringify(shown)}\n`);
    return o;
  };
  /**
   * Arm a against arm b: the median over the alternations of a's slice rate over b's slice rate in the same
   * alternation, the lowest and highest of those ratios, and the ratio of the two arms' totals (percent).
   */
  const ratio = (a: { slices: AutocannonResult[]; reqPerSec: number }, b: typeof a) => {
    const paired = a.slices.map((x, i) => (100 * rate(x)) / rate(b.slices[i] as AutocannonResult));
    return {
      median: med(paired),
      min: Math.min(...paired),
      max: Math.max(...paired),
      totals: (100 * a.reqPerSec) / b.reqPerSec,
      n: paired.length,
    };
  };
  const pct = (r: ReturnType<typeof ratio>) =>
    `**${r.median.toFixed(0)}%** (${r.n} pairs ${r.min.toFixed(0)}–${r.max.toFixed(0)} %; totals ${r.totals.toFixed(0)}%)`;
  /** Loads the arms in alternating slices (a, b, c, a, b, c, …) after a warm-up, so all see the same neighbours. */
  const runArms = async (scenario: string, arms: Arm[]) => {
    const slices = arms.map(() => [] as AutocannonResult[]);
    const latencies = arms.map(() => [] as number[]);
    /** One slice, every answer's latency (ms) kept for the arm's percentiles. */
    const load = (o: Record<string, unknown>, sink: number[]) =>
      new Promise<AutocannonResult>((res, rej) => {
        const run = autocannon(o, (err, r) => (err ? rej(err) : res(r)));
        run.on("response", (_c, _s, _b, ms) => sink.push(ms));
      });
    const cpu = arms.map(() => [] as number[]);
    const opts = (arm: Arm, d: number) => ({
      url: `http://127.0.0.1:${arm.port}`,
      connections,
      duration: d,
      // autocannon stops a slice at its next sample tick: every 100 ms, so a 1 s slice lasts 1 s, not 1 or 2.
      sampleInt: 100,
      requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, ...arm.next() }) }],
    });
    // Warm-up: every arm answers each of its requests once, so the catalog's pages the scenario reads are in the
    // OS cache before any slice (with a short warm-up, the first arm's first slice read them cold and the arms
    // after it found them warm: the app, first, lost 10-60 % of its first slice).
    for (const arm of arms) {
      const { duration: _, ...once } = opts(arm, 1);
      // autocannon refuses more connections than requests (stats and list have a handful of distinct requests).
      await autocannon({ ...once, connections: Math.min(connections, arm.count), amount: arm.count });
    }
    // Each round gives each arm duration/rounds seconds in slices of `slice` seconds, alternating between the arms;
    // the order turns at every alternation (app, bare, baseline; bare, baseline, app; …): no arm always goes first.
    const perRound = Math.max(1, Math.round(duration / rounds / slice));
    for (let alt = 0; alt < rounds * perRound; alt++) {
      for (let i = 0; i < arms.length; i++) {
        const k = (i + alt) % arms.length;
        const arm = arms[k]!;
        const c0 = cpuMs(arm.pid);
        slices[k]!.push(await load(opts(arm, slice), latencies[k]!));
        const c1 = cpuMs(arm.pid);
        if (c0 !== undefined && c1 !== undefined) cpu[k]!.push(c1 - c0);
      }
    }
    return arms.map((arm, k) => summarise(scenario, arm.label, slices[k]!, cpu[k]!, latencies[k]!));
  };
  try {
    for (const [scenario, paths] of [
      ["tool detail", targets.tools],
      ["server detail", targets.servers],
      ["search", targets.searches],
    ] as const) {
      if (!only.has(scenario.split(" ")[0]!)) continue;
      const arms: Arm[] = [
        { label: "app", port: hono.port, pid: hono.child.pid, ...cycle(get(paths)) },
        { label: "bare", port: bare.port, pid: bare.child.pid, ...cycle(get(paths)) },
        ...(base ? [{ label: "baseline", port: base.port, pid: base.child.pid, ...cycle(get(paths)) }] : []),
      ];
      // Same answers: the bare handler must send the app's bytes, or the comparison is not of the same work.
      const same = await sameBodies(hono.port, bare.port, paths.slice(0, 200));
      sameRows.push(
        `${scenario}: ${same.same} of ${same.n} bodies identical${same.firstDiff ? ` (first difference: ${same.firstDiff})` : ""}`,
      );
      process.stderr.write(`${scenario}: ${same.same}/${same.n} bodies identical\n`);
      const [h, b, o] = await runArms(scenario, arms);
      if (!h || !b) continue;
      if (o) {
        baseRows.push(
          `| ${scenario} | ${h.reqPerSec.toFixed(0)} | ${h.p50} / ${h.p99} | ${o.reqPerSec.toFixed(0)} | ${o.p50} / ${o.p99} | ${pct(ratio(h, o))} | ${b.reqPerSec.toFixed(0)} |`,
        );
      }
      rows.push(
        `| ${scenario} | ${h.reqPerSec.toFixed(0)} | ${h.p50} | ${h.p99} (worst ${h.worstP99}) | ${b.reqPerSec.toFixed(0)} | ${b.p50} | ${b.p99} (worst ${b.worstP99}) | ${pct(ratio(h, b))} | ${h.cpuMsPerReq.toFixed(3)} / ${b.cpuMsPerReq.toFixed(3)} (${((100 * b.cpuMsPerReq) / h.cpuMsPerReq).toFixed(0)}%) | ${h.bad} / ${b.bad} |`,
      );
    }
    // MCP tool calls against the REST requests that answer the same question, on the same app process.
    for (const [scenario, calls, restPaths] of [
      ["MCP check_tool vs REST tool detail", checkCalls, targets.tools],
      ["MCP search_tools vs REST search", searchCalls, targets.searches],
    ] as const) {
      if (!only.has("mcp")) continue;
      const arms: Arm[] = [
        { label: "mcp", port: hono.port, pid: hono.child.pid, ...cycle(calls) },
        { label: "rest", port: hono.port, pid: hono.child.pid, ...cycle(get(restPaths)) },
        ...(base ? [{ label: "baseline mcp", port: base.port, pid: base.child.pid, ...cycle(calls) }] : []),
      ];
      const [m, r, o] = await runArms(scenario, arms);
      if (!m || !r) continue;
      mcpRows.push(
        `| ${scenario} | ${m.reqPerSec.toFixed(0)} | ${m.p50} / ${m.p99} | ${r.reqPerSec.toFixed(0)} | ${r.p50} / ${r.p99} | ${pct(ratio(m, r))}, CPU ms/req ${m.cpuMsPerReq.toFixed(3)} / ${r.cpuMsPerReq.toFixed(3)} (${((100 * r.cpuMsPerReq) / m.cpuMsPerReq).toFixed(0)}%) | ${o ? `${o.reqPerSec.toFixed(0)} (${o.p50} / ${o.p99})` : "—"} | ${m.bad} / ${r.bad} |`,
      );
    }
    // Statistics: sequential requests, one at a time (the baseline's cost is per call; 50 connections would only queue).
    const statsLatency = async (port: number, n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const r = await fetch(`http://127.0.0.1:${port}/v1/stats`);
        await r.text();
        ms.push(performance.now() - t0);
      }
      ms.sort((x, y) => x - y);
      return { n, p50: ms[Math.floor(n / 2)] as number, p99: ms[Math.min(n - 1, Math.floor(n * 0.99))] as number };
    };
    if (only.has("stats")) {
      const sApp = await statsLatency(hono.port, 200);
      const sBase = base ? await statsLatency(base.port, 2) : undefined;
      raw["stats / app"] = sApp;
      if (sBase) raw["stats / baseline"] = sBase;
      mcpRows.push(
        `| /v1/stats, sequential (ms per request) | — | ${sApp.p50.toFixed(2)} / ${sApp.p99.toFixed(2)} (n=${sApp.n}) | — | — | — | ${sBase ? `${sBase.p50.toFixed(0)} / ${sBase.p99.toFixed(0)} (n=${sBase.n})` : "—"} | — |`,
      );
    }
    // List pages in the orders and filters that sorted or scanned the whole catalog before. Last: a baseline that
    // cannot keep up keeps working through its queue after the slice ends.
    const listPaths = [
      "/v1/tools?sort=name&limit=50",
      "/v1/tools?sort=risk&limit=50",
      "/v1/tools?flag=poisoning&limit=50",
      "/v1/tools?flag=annotation_contradiction&limit=50",
      "/v1/tools?category=Destructive&sort=name&limit=50",
    ];
    const listArms: Arm[] = [
      { label: "app", port: hono.port, pid: hono.child.pid, ...cycle(get(listPaths)) },
      ...(base ? [{ label: "baseline", port: base.port, pid: base.child.pid, ...cycle(get(listPaths)) }] : []),
    ];
    const [lh, lo] = only.has("list")
      ? await runArms("list pages (sort=name/risk, flag=, category+name)", listArms)
      : [];
    if (lh) {
      mcpRows.push(
        `| list pages: ${listPaths.map((p) => p.replace("/v1/tools?", "").replace("&limit=50", "")).join(", ")} | ${lh.reqPerSec.toFixed(0)} | ${lh.p50} / ${lh.p99} | — | — | — | ${lo ? `${lo.reqPerSec.toFixed(0)} (${lo.p50} / ${lo.p99})` : "—"} | ${lh.bad} / ${lo?.bad ?? 0} |`,
      );
    }
  } finally {
    hono.child.kill("SIGTERM");
    bare.child.kill("SIGTERM");
    base?.child.kill("SIGTERM");
  }
  const cmd = `npx tsx scripts/bench-api.ts ${process.argv.slice(2).join(" ")}`.trim();
  const report = [
    `## API benchmark (${new Date().toISOString().slice(0, 10)})`,
    "",
    `Command: \`${cmd}\``,
    `Catalog: ${counts.servers} servers, ${counts.tools} tools, ${counts.versions} tool versions (${db.replace(process.cwd() + "/", "")}).`,
    `Machine: ${cpus().length} cores shared with other work; 1-minute load average ${loadBefore} before the run, ${loadavg()[0]!.toFixed(1)} after.`,
    `autocannon, ${connections} connections, ${duration} s per implementation and scenario: ${rounds} rounds of ${Math.max(1, Math.round(duration / rounds / slice))} alternations of ${slice} s slices (app, bare, baseline; bare, baseline, app; …: the order turns at every alternation; MCP, REST, baseline MCP likewise) after a warm-up in which each arm answers each of its requests once; req/s is an arm's requests over its seconds, p50/p99 over all its answers (the worst slice's p99 in brackets); a ratio is the median over the alternations of the two arms' slice rates (lowest–highest pair, and the ratio of the totals, in brackets); server CPU per request with bare/app (or REST/MCP) in brackets; each request picks a different target from ${targets.tools.length} sampled tools/servers and ${targets.searches.length} searches.`,
    "",
    `Same answers (app and bare, byte for byte, before the load): ${sameRows.join("; ") || "—"}.`,
    "",
    "| scenario | app req/s | app p50 ms | app p99 ms | bare req/s | bare p50 ms | bare p99 ms | app / bare | server CPU ms per request (app / bare, bare/app) | errors (app / bare) |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "MCP tool calls and the REST requests answering the same question, on the same app process (alternating slices), and list pages:",
    "",
    "| scenario | MCP (or app) req/s | p50 / p99 ms | REST req/s | p50 / p99 ms | MCP / REST | baseline req/s (p50 / p99 ms) | errors |",
    "|---|---|---|---|---|---|---|---|",
    ...mcpRows,
    "",
    ...(base
      ? [
          `Against the baseline checkout ${baseline} (same slices, alternating app, bare, baseline):`,
          "",
          "| scenario | app req/s | app p50 / p99 ms | baseline req/s | baseline p50 / p99 ms | app / baseline | bare req/s |",
          "|---|---|---|---|---|---|---|",
          ...baseRows,
          "",
        ]
      : []),
    "```json",
    JSON.stringify(raw, null, 2),
    "```",
    "",
  ].join("\n");
  mkdirSync(dirname(resolve(out)), { recursive: true });
  appendFileSync(out, `${report}\n`);
  process.stdout.write(report);
}

if (process.argv.includes("--child")) {
  const kind = arg("child", "hono");
  const db = resolve(arg("db", "data/bench/api-catalog.db"));
  const port = kind === "bare" ? await bareServer(db) : await honoServer(db);
  // Exit cleanly on SIGTERM so --cpu-prof profiles are written when profiling a child by hand.
  process.once("SIGTERM", () => process.exit(0));
  process.stdout.write(`PORT ${port}\n`);
} else {
  await main();
}
