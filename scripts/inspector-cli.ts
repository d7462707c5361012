/**
 * Runs the MCP Inspector's CLI against our MCP server, over stdio (`mcp-census mcp`) and Streamable HTTP
 * (`mcp-census serve`, /mcp), as a user of the Inspector would: `tools/list`, then `tools/call` of check_tool and
 * search_tools. The Inspector is installed with npm into a temporary folder (it is no dependency of the project).
 *
 *   npx tsx scripts/inspector-cli.ts --db <catalog.db> [--version 0.15.0] [--out docs/benchmarks/inspector-cli.md]
 *
 * Why 0.15.0: @modelcontextprotocol/inspector 0.16.0 and later declare engines node >= 22.7.5 (2.x: >= 22.19), and
 * this project runs on Node 20; 0.15.0 declares no engines, and its CLI (@modelcontextprotocol/inspector-cli)
 * speaks stdio, SSE and Streamable HTTP (`--transport http`, or a URL ending in /mcp). Each check is one CLI run;
 * the run fails (exit 1) when any check does.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "bin", "mcp-census.js");

interface Check {
  name: string;
  transport: "stdio" | "http";
  ok: boolean;
  ms: number;
  detail: string;
}

/** Runs the Inspector CLI once and parses its JSON output. */
function inspect(
  cli: string,
  target: string[],
  method: string[],
): { code: number; ms: number; out: unknown; err: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...target, ...method], {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, MCP_CENSUS_LOG_LEVEL: "warn" },
  });
  const ms = performance.now() - t0;
  let out: unknown;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    out = undefined;
  }
  return { code: r.status ?? -1, ms, out, err: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}`.trim() };
}

function startServe(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, "--db", db, "serve", "--port", "0"], {
    env: { ...process.env, MCP_CENSUS_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((res, rej) => {
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /at (http:\/\/[^\s]+)\/v1/.exec(buf);
      if (m) res({ child, url: `${m[1]}/mcp` });
    });
    child.once("exit", (code) => rej(new Error(`serve exited (${code})`)));
  });
}

async function main(): Promise<void> {
  const db = resolve(arg("db", "data/bench/api-catalog.db"));
  const version = arg("version", "0.15.0");
  const out = arg("out", "");
  const sqlite = new Database(db, { readonly: true });
  const sample = sqlite
    .prepare(
      `SELECT s.slug, t.name FROM tools t JOIN servers s ON s.id = t.server_id
       WHERE t.removed_at IS NULL AND s.status != 'removed' ORDER BY t.id LIMIT 1`,
    )
    .get() as { slug: string; name: string } | undefined;
  sqlite.close();
  if (!sample) throw new Error(`${db}: no current tool to check`);
  const word = sample.name.split(/[_\-.]/).find((w) => w.length >= 3) ?? sample.name;

  const dir = mkdtempSync(join(tmpdir(), "mcp-census-inspector-"));
  const checks: Check[] = [];
  let serve: { child: ChildProcess; url: string } | undefined;
  try {
    const install = spawnSync(
      "npm",
      ["install", "--prefix", dir, "--no-audit", "--no-fund", `@modelcontextprotocol/inspector-cli@${version}`],
      { encoding: "utf8", timeout: 300_000 },
    );
    if (install.status !== 0) throw new Error(`npm install of the Inspector CLI failed: ${install.stderr}`);
    const cli = join(dir, "node_modules", "@modelcontextprotocol", "inspector-cli", "build", "index.js");
    serve = await startServe(db);
    const targets: [Check["transport"], string[]][] = [
      ["stdio", [process.execPath, BIN, "--db", db, "mcp"]],
      ["http", [serve.url, "--transport", "http"]],
    ];
    for (const [transport, target] of targets) {
      const list = inspect(cli, target, ["--method", "tools/list"]);
      const names = ((list.out as { tools?: { name: string }[] } | undefined)?.tools ?? []).map((t) => t.name).sort();
      const want = ["check_tool", "get_policy", "get_server", "search_servers", "search_tools"];
      checks.push({
        name: "tools/list",
        transport,
        ok: list.code === 0 && JSON.stringify(names) === JSON.stringify(want),
        ms: list.ms,
        detail: list.code === 0 ? `tools: ${names.join(", ")}` : `exit ${list.code}: ${list.err.slice(0, 300)}`,
      });
      const call = inspect(cli, target, [
        "--method",
        "tools/call",
        "--tool-name",
        "check_tool",
        "--tool-arg",
        `server=${sample.slug}`,
        `tool=${sample.name}`,
      ]);
      const sc = (call.out as { structuredContent?: Record<string, unknown>; isError?: boolean } | undefined) ?? {};
      const rule = sc.structuredContent?.recommendedRule as { action?: string } | undefined;
      checks.push({
        name: `tools/call check_tool ${sample.slug} ${sample.name}`,
        transport,
        ok: call.code === 0 && !sc.isError && sc.structuredContent?.inCatalog === true && !!rule?.action,
        ms: call.ms,
        detail:
          call.code === 0
            ? `inCatalog ${String(sc.structuredContent?.inCatalog)}, risk ${String(sc.structuredContent?.risk)}, rule ${rule?.action}`
            : `exit ${call.code}: ${call.err.slice(0, 300)}`,
      });
      const search = inspect(cli, target, [
        "--method",
        "tools/call",
        "--tool-name",
        "search_tools",
        "--tool-arg",
        `q=${word}`,
        "limit=3",
      ]);
      const items = ((search.out as { structuredContent?: { items?: unknown[] } } | undefined)?.structuredContent
        ?.items ?? []) as unknown[];
      checks.push({
        name: `tools/call search_tools q=${word} limit=3`,
        transport,
        ok: search.code === 0 && items.length > 0 && items.length <= 3,
        ms: search.ms,
        detail: search.code === 0 ? `${items.length} items` : `exit ${search.code}: ${search.err.slice(0, 300)}`,
      });
    }
  } finally {
    serve?.child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
  const report = [
    `## MCP Inspector CLI ${version} against mcp-census (${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node})`,
    "",
    `Command: \`npx tsx scripts/inspector-cli.ts ${process.argv.slice(2).join(" ")}\``.replace(/ `$/, "`"),
    "",
    "| transport | check | result | wall ms | detail |",
    "|---|---|---|---|---|",
    ...checks.map(
      (c) => `| ${c.transport} | ${c.name} | ${c.ok ? "ok" : "FAILED"} | ${c.ms.toFixed(0)} | ${c.detail} |`,
    ),
    "",
  ].join("\n");
  process.stdout.write(`${report}\n`);
  if (out) {
    mkdirSync(dirname(resolve(out)), { recursive: true });
    appendFileSync(out, `${report}\n`);
  }
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
}

await main();
