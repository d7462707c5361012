/**
 * Probe survey: lists real npm-published MCP servers given only `npm:<package>@<version>` (what most registries
 * say about a package), sandboxed, with nothing supplied by a person, and reports which listed and why the others
 * did not. Installs go to a shared cache folder, so a second run measures launching rather than downloading.
 * Usage: npx tsx scripts/probe-survey.ts [--list scripts/probe-survey-servers.txt] [--concurrency 2]
 *        [--timeout 30000] [--cache /tmp/mcp-census-survey-cache] [--out survey.json] [--only <substring>]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mapLimit } from "../src/core/concurrency.js";
import type { ProbeResult } from "../src/core/types.js";
import { type ProbeOptions, parseTarget, probe } from "../src/mcp/index.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const listFile = arg("list", "scripts/probe-survey-servers.txt");
const only = arg("only", "");
const specs = readFileSync(listFile, "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#") && l.includes(only));

const opts: ProbeOptions = {
  cacheDir: arg("cache", join(tmpdir(), "mcp-census-survey-cache")),
  timeoutMs: Number(arg("timeout", "30000")),
  installTimeoutMs: 600_000,
  allowInstallScripts: process.argv.includes("--allow-install-scripts"),
  allowUnsandboxed: false,
  allowPrivateNetwork: false,
  memoryLimitMb: 2048,
};

interface Row {
  spec: string;
  outcome: string;
  tools: number;
  listed: boolean;
  ms: number;
  error?: string;
  placeholders: string[];
  attempts?: unknown;
  /** The Node.js it ran with when not the host's (fetched from npm: engines.node or the server asked). */
  runtime?: string;
  services?: unknown;
}

const started = performance.now();
const rows = await mapLimit(specs, Number(arg("concurrency", "2")), async (spec): Promise<Row> => {
  const t = performance.now();
  let r: ProbeResult;
  try {
    r = await probe(parseTarget(spec), opts);
  } catch (err) {
    return { spec, outcome: "script_error", tools: 0, listed: false, ms: 0, error: String(err), placeholders: [] };
  }
  const runtime = r.launch.runtime as { source?: string } | undefined;
  const row: Row = {
    spec,
    outcome: r.outcome,
    tools: r.tools.length,
    listed: r.outcome === "ok" && r.tools.length > 0,
    ms: Math.round(performance.now() - t),
    ...(r.error ? { error: r.error.slice(0, 300) } : {}),
    placeholders: r.placeholders,
    ...(r.launch.attempts ? { attempts: r.launch.attempts } : {}),
    ...(runtime && runtime.source !== "host" ? { runtime: runtime.source } : {}),
    ...(r.launch.services ? { services: r.launch.services } : {}),
  };
  process.stderr.write(
    `${row.listed ? "listed" : "NOT   "} ${spec} ${row.outcome} ${row.tools} tools ${row.ms} ms${row.runtime ? ` (${row.runtime})` : ""}${row.error ? ` — ${row.error.slice(0, 160)}` : ""}\n`,
  );
  return row;
});

const listed = rows.filter((r) => r.listed).length;
const byOutcome: Record<string, number> = {};
for (const r of rows) byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
const summary = {
  servers: rows.length,
  listed,
  byOutcome,
  wallMs: Math.round(performance.now() - started),
  timeoutMs: opts.timeoutMs,
};
const out = arg("out", "");
if (out) writeFileSync(out, `${JSON.stringify({ summary, rows }, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(summary)}\n`);
