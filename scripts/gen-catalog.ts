/**
 * Generates a synthetic catalog of N servers / M tools into a SQLite file with the real schema, for benchmarks.
 * Tool names, descriptions, parameters and annotations are recombined from real tools (../shared/dev-set/tools.jsonl),
 * and each tool gets a classification derived from the hand label of the tool it was made from (source "synthetic").
 *
 *   npx tsx scripts/gen-catalog.ts --servers 40000 --tools 500000 --out data/bench/catalog.db [--seed 1] [--force]
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { contentHash } from "../src/core/hash.js";
import type { Category, Classification, RawTool, Risk } from "../src/core/types.js";
import { openCatalog } from "../src/store/db.js";
import { slugify } from "../src/store/keys.js";

export interface GenCatalogOpts {
  servers: number;
  tools: number;
  out: string;
  seed?: number;
  devSet?: string;
  /** Replace an existing file at `out` (otherwise refuse). */
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface GenCatalogResult {
  servers: number;
  tools: number;
  toolVersions: number;
  classifications: number;
  ms: number;
}

interface DevTool {
  server: string;
  tool: string;
  description: string;
  params: string[];
  annotations: Record<string, unknown> | null;
  category: "read" | "write" | "execute";
  destructive: boolean;
  risk: "low" | "medium" | "high";
}

export const CLASSIFIER_VERSION_SYNTHETIC = "synthetic-1";
const REGISTRIES = ["official", "smithery", "glama", "docker", "pulsemcp", "npm"];
const OUTCOMES: [string, number][] = [
  ["ok", 0.85],
  ["auth_required", 0.05],
  ["install_failed", 0.04],
  ["timeout", 0.03],
  ["crashed", 0.03],
];
const DEFAULT_DEV_SET = fileURLToPath(new URL("../../shared/dev-set/tools.jsonl", import.meta.url));

/** A small seeded PRNG (mulberry32): the same seed gives the same catalog. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function paramSchema(p: string, rand: () => number): Record<string, unknown> {
  if (/^(limit|page|per_?page|count|max|offset|size|depth|timeout)/i.test(p))
    return { type: "integer", description: `Maximum ${p} to use`, default: 10 };
  if (/^(is|has|private|draft|force|recursive|dry|include|auto)/i.test(p))
    return { type: "boolean", description: `Whether to ${p}`, default: false };
  if (/(state|status|sort|order|mode|format|method|type)$/i.test(p)) {
    const choices = [
      ["open", "closed", "all"],
      ["asc", "desc"],
      ["json", "text", "markdown"],
      ["GET", "POST", "PUT", "DELETE"],
    ];
    return { type: "string", description: `The ${p}`, enum: choices[Math.floor(rand() * choices.length)] };
  }
  if (/(ids|labels|files|tags|items|paths|assignees)$/i.test(p))
    return { type: "array", items: { type: "string" }, description: `List of ${p}` };
  return { type: "string", description: `The ${p.replace(/_/g, " ")}` };
}

function classificationOf(d: DevTool, rand: () => number, annotations: Record<string, unknown> | null): Classification {
  const access = d.category;
  const financial = /payment|invoice|refund|charge|billing|subscription/i.test(d.tool);
  const category: Category = financial
    ? "Financial"
    : d.destructive
      ? "Destructive"
      : access === "execute"
        ? "Execute"
        : access === "write"
          ? "Write"
          : "Read";
  const risk: Risk = d.risk === "high" && d.destructive && access === "execute" && rand() < 0.5 ? "critical" : d.risk;
  const verb = d.tool.split(/[_\-.]/)[0] ?? d.tool;
  const signals = [`the name starts with the verb "${verb}"`];
  if (annotations?.readOnlyHint === true) signals.push("the author declares it read-only");
  if (d.params.length)
    signals.push(
      `takes ${d.params.length} parameter${d.params.length === 1 ? "" : "s"}: ${d.params.slice(0, 4).join(", ")}`,
    );
  const flags: string[] = [];
  if (annotations?.readOnlyHint === true && access !== "read") flags.push("annotation_contradiction");
  if (rand() < 0.002) flags.push("poisoning:hidden_instructions");
  return {
    access,
    destructive: d.destructive,
    financial,
    category,
    risk,
    confidence: Math.round((0.6 + rand() * 0.39) * 100) / 100,
    signals,
    flags,
    source: "synthetic",
    classifierVersion: CLASSIFIER_VERSION_SYNTHETIC,
  };
}

/** Writes a synthetic catalog with bulk SQL in one transaction (FTS triggers included). */
export function generateCatalog(o: GenCatalogOpts): GenCatalogResult {
  const t0 = performance.now();
  const out = resolve(o.out);
  if (existsSync(out)) {
    if (!o.force) throw new Error(`${out} exists: pass --force to replace it`);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(out + suffix, { force: true });
  }
  const dev = readFileSync(o.devSet ?? DEFAULT_DEV_SET, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DevTool);
  if (!dev.length) throw new Error("the dev set is empty");
  const words = [...new Set(dev.flatMap((d) => d.tool.split(/[_\-.]/)).filter((w) => /^[a-z]{3,12}$/.test(w)))].sort();
  const rand = rng(o.seed ?? 1);
  const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)]!;
  const cat = openCatalog(out);
  const { sqlite } = cat;
  sqlite.pragma("synchronous = OFF");
  const base = Date.parse("2026-01-01T00:00:00.000Z");
  const iso = (dayOffset: number) => new Date(base + Math.floor(dayOffset * 86_400_000)).toISOString();

  // Tool counts: exponential weights over servers whose probe succeeded, scaled to exactly o.tools.
  const outcomes = Array.from({ length: o.servers }, () => {
    let u = rand();
    for (const [name, p] of OUTCOMES) {
      if (u < p) return name;
      u -= p;
    }
    return "ok";
  });
  const okIdx = outcomes.flatMap((x, i) => (x === "ok" ? [i] : []));
  if (!okIdx.length && o.tools > 0) outcomes[0] = "ok";
  const oks = okIdx.length ? okIdx : [0];
  const weights = oks.map(() => -Math.log(1 - rand() * 0.999999));
  const wsum = weights.reduce((a, b) => a + b, 0);
  const counts = new Array<number>(o.servers).fill(0);
  let assigned = 0;
  oks.forEach((i, k) => {
    counts[i] = Math.floor((weights[k]! / wsum) * o.tools);
    assigned += counts[i]!;
  });
  for (let k = 0; assigned < o.tools; k = (k + 1) % oks.length, assigned++) counts[oks[k]!]!++;

  const ins = {
    server: sqlite.prepare(
      `INSERT INTO servers (id, slug, name, title, description, version, repository_url, website_url, packages, remotes, status, first_seen, last_seen, last_probe_id, last_ok_probe_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)`,
    ),
    key: sqlite.prepare("INSERT OR IGNORE INTO server_keys (key, server_id) VALUES (?, ?)"),
    source: sqlite.prepare(
      `INSERT INTO sources (source_id, source_key, server_id, raw, status, popularity, first_seen, last_seen) VALUES (?, ?, ?, ?, 'active', ?, ?, ?)`,
    ),
    probe: sqlite.prepare(
      `INSERT INTO probes (id, server_id, started_at, duration_ms, transport, launch, outcome, error, timings, server_info, protocol_version, placeholders, warnings, tool_count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, '[]', '[]', ?)`,
    ),
    tool: sqlite.prepare(
      `INSERT INTO tools (server_id, name, slug, title, description, input_schema, output_schema, annotations, raw, hash, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)`,
    ),
    version: sqlite.prepare(
      `INSERT OR IGNORE INTO tool_versions (server_id, tool_name, hash, raw, first_seen, last_seen, first_probe_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    cls: sqlite.prepare(
      `INSERT OR IGNORE INTO classifications (hash, classifier_version, access, destructive, financial, category, risk, confidence, signals, flags, source, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
  let toolCount = 0;
  let versionCount = 0;
  let clsCount = 0;
  const seenHash = new Set<string>();
  const batch = 2000;
  for (let start = 0; start < o.servers; start += batch) {
    sqlite.transaction(() => {
      for (let i = start; i < Math.min(o.servers, start + batch); i++) {
        const id = i + 1;
        const w1 = pick(words);
        const w2 = pick(words);
        const owner = `${pick(words)}${i % 97}`;
        const name = `io.github.${owner}/${w1}-${w2}-mcp-${i}`;
        const remote = rand() < 0.15;
        const pkgId = `@${owner}/${w1}-${w2}-mcp-${i}`;
        const env =
          rand() < 0.4
            ? [
                {
                  name: `${w1.toUpperCase()}_API_KEY`,
                  isRequired: true,
                  isSecret: true,
                  description: `API key for ${w1}`,
                },
              ]
            : [];
        const packages = remote
          ? []
          : [
              {
                registryType: "npm",
                identifier: pkgId,
                version: `1.${i % 10}.0`,
                transport: { type: "stdio" },
                environmentVariables: env,
              },
            ];
        const remotes = remote ? [{ type: "streamable-http", url: `https://mcp.${owner}.example/${w1}` }] : [];
        const first = iso(rand() * 300);
        const probeAt = iso(300 + rand() * 30);
        const outcome = outcomes[i]!;
        const src = dev[Math.floor(rand() * dev.length)]!;
        ins.server.run(
          id,
          slugify(name),
          name,
          `${w1[0]!.toUpperCase()}${w1.slice(1)} ${w2} MCP server`,
          `An MCP server for ${w1} and ${w2}, in the style of ${src.server}.`,
          `1.${i % 10}.0`,
          `https://github.com/${owner}/${w1}-${w2}-mcp-${i}`,
          null,
          JSON.stringify(packages),
          JSON.stringify(remotes),
          first,
          probeAt,
          id,
          outcome === "ok" ? probeAt : null,
        );
        ins.key.run(`name:${name.toLowerCase()}`, id);
        const nsrc = 1 + Math.floor(rand() * 3);
        const regs = [...REGISTRIES]
          .sort(() => rand() - 0.5)
          .slice(0, nsrc)
          .sort();
        for (const r of regs)
          ins.source.run(
            r,
            r === "npm" ? pkgId : name,
            id,
            JSON.stringify({ name }),
            Math.round(rand() * 1000),
            first,
            probeAt,
          );
        ins.probe.run(
          id,
          id,
          probeAt,
          Math.round(300 + rand() * 3000),
          remote ? "streamable-http" : "stdio",
          JSON.stringify(remote ? { url: remotes[0]?.url } : { command: "npx", args: ["-y", pkgId] }),
          outcome,
          outcome === "ok" ? null : `${outcome.replace(/_/g, " ")} while listing tools`,
          outcome === "ok" ? JSON.stringify({ name: `${w1}-${w2}`, version: `1.${i % 10}.0` }) : null,
          outcome === "ok" ? "2025-06-18" : null,
          counts[i]!,
        );
        const names = new Set<string>();
        const slugs = new Set<string>();
        for (let k = 0; k < counts[i]!; k++) {
          const d = dev[Math.floor(rand() * dev.length)]!;
          let tname = d.tool;
          if (rand() < 0.5) {
            const other = pick(dev).tool.split(/[_\-.]/);
            const verb = d.tool.split(/[_\-.]/)[0] ?? d.tool;
            tname = [verb, ...other.slice(1)].join("_") || d.tool;
          }
          let n = tname;
          for (let j = 2; names.has(n); j++) n = `${tname}_${j}`;
          names.add(n);
          let slug = slugify(n);
          const sbase = slug;
          for (let j = 2; slugs.has(slug); j++) slug = `${sbase}-${j}`;
          slugs.add(slug);
          const props = Object.fromEntries(d.params.map((p) => [p, paramSchema(p, rand)]));
          const inputSchema = {
            type: "object",
            properties: props,
            required: d.params.slice(0, Math.min(d.params.length, 1 + Math.floor(rand() * 2))),
          };
          const raw: RawTool = {
            name: n,
            description: d.description,
            inputSchema,
            ...(d.annotations ? { annotations: d.annotations } : {}),
          };
          const hash = contentHash(raw);
          const rawJson = JSON.stringify(raw);
          const toolFirst = iso(300 + rand() * 30);
          if (rand() < 0.05) {
            const old = { ...raw, description: d.description.split(/(?<=\.)\s/)[0] ?? d.description };
            const oldHash = contentHash(old);
            if (oldHash !== hash) {
              ins.version.run(id, n, oldHash, JSON.stringify(old), first, toolFirst, id);
              versionCount++;
            }
          }
          ins.tool.run(
            id,
            n,
            slug,
            null,
            d.description,
            JSON.stringify(inputSchema),
            d.annotations ? JSON.stringify(d.annotations) : null,
            rawJson,
            hash,
            first,
            probeAt,
          );
          ins.version.run(id, n, hash, rawJson, toolFirst, probeAt, id);
          versionCount++;
          toolCount++;
          if (!seenHash.has(hash)) {
            seenHash.add(hash);
            const c = classificationOf(d, rand, d.annotations);
            ins.cls.run(
              hash,
              c.classifierVersion,
              c.access,
              c.destructive ? 1 : 0,
              c.financial ? 1 : 0,
              c.category,
              c.risk,
              c.confidence,
              JSON.stringify(c.signals),
              JSON.stringify(c.flags),
              c.source,
              "2026-01-01T00:00:00.000Z",
            );
            clsCount++;
          }
        }
      }
    })();
    o.onProgress?.(Math.min(o.servers, start + batch), o.servers);
  }
  // Bulk inserts bypass saveClassification, so copy each tool's current category and risk once at the end.
  sqlite.exec(`UPDATE tools SET
    category = (SELECT c.category FROM classifications c WHERE c.hash = tools.hash ORDER BY c.created_at DESC LIMIT 1),
    risk = (SELECT c.risk FROM classifications c WHERE c.hash = tools.hash ORDER BY c.created_at DESC LIMIT 1)`);
  sqlite.pragma("wal_checkpoint(TRUNCATE)");
  cat.close();
  return {
    servers: o.servers,
    tools: toolCount,
    toolVersions: versionCount,
    classifications: clsCount,
    ms: Math.round(performance.now() - t0),
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const servers = Number(arg("servers") ?? 1000);
  const tools = Number(arg("tools") ?? 12_500);
  const out = arg("out") ?? "data/bench/catalog.db";
  if (!Number.isInteger(servers) || servers < 1 || !Number.isInteger(tools) || tools < 0) {
    process.stderr.write("gen-catalog: --servers must be a positive integer and --tools a non-negative integer\n");
    process.exit(2);
  }
  try {
    const r = generateCatalog({
      servers,
      tools,
      out,
      seed: Number(arg("seed") ?? 1),
      devSet: arg("dev-set"),
      force: process.argv.includes("--force"),
      onProgress: (d, t) => process.stderr.write(`\r${d}/${t} servers`),
    });
    process.stderr.write("\n");
    process.stdout.write(`${JSON.stringify({ out, ...r })}\n`);
  } catch (err) {
    process.stderr.write(`gen-catalog: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
