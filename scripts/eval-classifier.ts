/**
 * Scores the heuristic classifier on the whole labelled corpus, leave-one-server-out: the dev set
 * (eval/corpus/dev-set.jsonl) plus the reconciled labels in eval/corpus/labels/*.jsonl, falling back to a single
 * labelling pass (eval/corpus/passes/A|B/*.jsonl) for servers with no reconciled file yet (the output says which).
 * Any weight fitted from data is fitted without the server being scored (see `loso` below), with annotations as given
 * and with them removed. Output is Markdown and deterministic (no timings), so it can be pasted into BENCHMARKS.md.
 *
 * Usage: npx tsx scripts/eval-classifier.ts [--corpus eval/corpus] [--fit] [--errors] [--why] [--json] [--servers]
 * (--fit: refit the access rules' weights for every fold without the scored server, see fit-weights.ts)
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type HeuristicModel, UNSURE_BELOW } from "../src/classify/features.js";
import { classifyHeuristic, extractFeatures } from "../src/classify/heuristics.js";
import type { Access, Classification, Risk, ToolInput } from "../src/core/types.js";
import { type FitSample, fitWeights } from "./fit-weights.js";

/** One labelled tool (dev set or new corpus). */
export interface LabelRow {
  server: string;
  tool: string;
  title?: string | null;
  description: string | null;
  params?: string[];
  annotations: Record<string, unknown> | null;
  inputSchema?: unknown;
  category: Access;
  destructive: boolean;
  risk: Exclude<Risk, "critical">;
  notes?: string;
}

export interface CorpusSource {
  server: string;
  source: string;
  n: number;
}

const ACCESS = new Set(["read", "write", "execute"]);
const RISKS = new Set(["low", "medium", "high"]);

function readJsonl(file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      console.error(`skipping a line of ${file} that is not JSON`);
    }
  }
  return out;
}

function valid(r: Record<string, unknown>): r is Record<string, unknown> & LabelRow {
  return (
    typeof r.server === "string" &&
    typeof r.tool === "string" &&
    ACCESS.has(r.category as string) &&
    typeof r.destructive === "boolean" &&
    RISKS.has(r.risk as string)
  );
}

function jsonlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * The labelled corpus: dev set, then reconciled labels per server, then a single pass where nothing is reconciled.
 * Rows without a usable label (missing or unknown category/risk) are counted and left out.
 */
export function loadCorpus(dir: string): { rows: LabelRow[]; sources: CorpusSource[]; invalid: number } {
  const rows: LabelRow[] = [];
  const sources: CorpusSource[] = [];
  let invalid = 0;
  const taken = new Set<string>();
  const add = (file: string, source: string) => {
    const byServer = new Map<string, LabelRow[]>();
    for (const r of readJsonl(file)) {
      fillFromDefinition(r);
      if (!valid(r)) {
        invalid++;
        continue;
      }
      if (taken.has(r.server as string)) continue;
      const list = byServer.get(r.server) ?? [];
      list.push(r);
      byServer.set(r.server, list);
    }
    for (const [server, list] of byServer) {
      rows.push(...list);
      sources.push({ server, source, n: list.length });
    }
    for (const server of byServer.keys()) taken.add(server);
  };
  // Labelling passes may carry only the verdict: their definitions come from the unlabelled files they were made from.
  const defs = new Map<string, Record<string, unknown>>();
  for (const f of readdirSync(dir)
    .filter((x) => /^definitions.*\.jsonl$/.test(x))
    .sort())
    for (const d of readJsonl(join(dir, f))) defs.set(`${d.server}\u0000${d.tool}`, d);
  const fillFromDefinition = (r: Record<string, unknown>) => {
    const d = defs.get(`${r.server}\u0000${r.tool}`);
    if (!d) return;
    for (const k of ["title", "description", "params", "annotations", "inputSchema"])
      if (r[k] === undefined && d[k] !== undefined) r[k] = d[k];
  };
  const dev = join(dir, "dev-set.jsonl");
  if (existsSync(dev)) add(dev, "dev set");
  for (const f of jsonlFiles(join(dir, "labels"))) add(f, "reconciled");
  for (const pass of ["A", "B"]) for (const f of jsonlFiles(join(dir, "passes", pass))) add(f, `pass ${pass} only`);
  return { rows, sources, invalid };
}

/** What the classifier reads for a labelled row: its real input schema when recorded, else the parameter names. */
export function toToolInput(row: LabelRow, withAnnotations: boolean): ToolInput {
  let inputSchema = row.inputSchema as Record<string, unknown> | undefined;
  // The Docker catalog lists parameters as `arguments: [{name, type, desc}]`; the server itself lists a JSON schema.
  if (
    inputSchema &&
    typeof inputSchema === "object" &&
    Array.isArray(inputSchema.arguments) &&
    !inputSchema.properties
  ) {
    const properties: Record<string, unknown> = {};
    for (const a of inputSchema.arguments as Array<Record<string, unknown>>)
      if (a && typeof a.name === "string")
        properties[a.name] = { type: a.type, description: typeof a.desc === "string" ? a.desc : undefined };
    inputSchema = { type: "object", properties };
  }
  if (!inputSchema || typeof inputSchema !== "object") {
    const properties: Record<string, unknown> = {};
    for (const p of row.params ?? []) properties[p] = {};
    inputSchema = { type: "object", properties };
  }
  return {
    server: row.server,
    name: row.tool,
    title: row.title ?? undefined,
    description: row.description ?? undefined,
    inputSchema,
    annotations: withAnnotations ? row.annotations : null,
  };
}

/** Metrics for one set of predictions. */
export interface EvalMetrics {
  n: number;
  accessAccuracy: number;
  accessRight: number;
  falseAllowRate: number;
  falseAllows: number;
  /** Non-read tools called read with confidence at or above UNSURE_BELOW: allowed outright by the policy. */
  sureFalseAllows: number;
  notRead: number;
  reads: number;
  readAllowRate: number;
  destructivePrecision: number;
  destructiveRecall: number;
  destructiveLabelled: number;
  destructivePredicted: number;
  riskWithinOne: number;
  riskExact: number;
}

const RISK_LEVEL: Record<Risk, number> = { low: 0, medium: 1, high: 2, critical: 2 };

/** Scores predictions against labels. */
export function score(rows: LabelRow[], preds: Classification[]): EvalMetrics {
  let access = 0;
  let fa = 0;
  let sureFa = 0;
  let notRead = 0;
  let readOk = 0;
  let reads = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let exact = 0;
  let within = 0;
  rows.forEach((r, i) => {
    const p = preds[i]!;
    if (p.access === r.category) access++;
    if (r.category !== "read") {
      notRead++;
      if (p.access === "read") {
        fa++;
        if (!p.flags.includes("unsure")) sureFa++;
      }
    } else {
      reads++;
      if (p.access === "read") readOk++;
    }
    if (p.destructive && r.destructive) tp++;
    else if (p.destructive) fp++;
    else if (r.destructive) fn++;
    const pr = RISK_LEVEL[p.risk];
    const lr = RISK_LEVEL[r.risk];
    if (pr === lr) exact++;
    if (Math.abs(pr - lr) <= 1) within++;
  });
  const n = rows.length;
  return {
    n,
    accessAccuracy: access / Math.max(1, n),
    accessRight: access,
    falseAllowRate: fa / Math.max(1, notRead),
    falseAllows: fa,
    sureFalseAllows: sureFa,
    notRead,
    reads,
    readAllowRate: readOk / Math.max(1, reads),
    destructivePrecision: tp / Math.max(1, tp + fp),
    destructiveRecall: tp / Math.max(1, tp + fn),
    destructiveLabelled: tp + fn,
    destructivePredicted: tp + fp,
    riskExact: exact / Math.max(1, n),
    riskWithinOne: within / Math.max(1, n),
  };
}

/** Confidence bands for calibration. */
const BANDS = [0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01];

export interface Calibration {
  bands: Array<{ from: number; to: number; n: number; right: number }>;
  threshold: number;
  atOrAbove: { n: number; right: number };
  errors: number;
  errorsBelow: number;
}

export function calibrate(rows: LabelRow[], preds: Classification[], threshold: number): Calibration {
  const bands = BANDS.slice(0, -1).map((from, i) => ({ from, to: BANDS[i + 1]!, n: 0, right: 0 }));
  const atOrAbove = { n: 0, right: 0 };
  let errors = 0;
  let errorsBelow = 0;
  rows.forEach((r, i) => {
    const p = preds[i]!;
    const ok = p.access === r.category;
    const b = bands.find((x) => p.confidence >= x.from && p.confidence < x.to);
    if (b) {
      b.n++;
      if (ok) b.right++;
    }
    if (p.confidence >= threshold) {
      atOrAbove.n++;
      if (ok) atOrAbove.right++;
    }
    if (!ok) {
      errors++;
      if (p.confidence < threshold) errorsBelow++;
    }
  });
  return { bands, threshold, atOrAbove, errors, errorsBelow };
}

const HAND_WEIGHTS: HeuristicModel = { weights: {} };

/** Fits weights per fold from features computed once per labelled row. */
export function foldFitter(rows: LabelRow[]): (train: LabelRow[], heldOut: string) => HeuristicModel {
  const samples = new Map<LabelRow, FitSample>();
  for (const r of rows)
    samples.set(r, {
      server: r.server,
      variants: r.annotations
        ? [extractFeatures(toToolInput(r, true)), extractFeatures(toToolInput(r, false))]
        : [extractFeatures(toToolInput(r, true))],
      access: r.category,
      destructive: r.destructive,
    });
  const byHeldOut = new Map<string, HeuristicModel>();
  return (train, heldOut) => {
    let m = byHeldOut.get(heldOut);
    if (!m) {
      m = fitWeights(train.map((r) => samples.get(r)!));
      byHeldOut.set(heldOut, m);
    }
    return m;
  };
}

/**
 * Leave-one-server-out predictions: for each server, fit on every other server and classify this one's tools.
 * Returns predictions in row order.
 */
export function loso(
  rows: LabelRow[],
  withAnnotations: boolean,
  fitWeights?: (train: LabelRow[], heldOut: string) => HeuristicModel,
): Classification[] {
  const servers = [...new Set(rows.map((r) => r.server))].sort();
  const preds = new Array<Classification>(rows.length);
  for (const s of servers) {
    // Without a fit, the hand weights alone.
    const model = fitWeights
      ? fitWeights(
          rows.filter((r) => r.server !== s),
          s,
        )
      : HAND_WEIGHTS;
    rows.forEach((r, i) => {
      if (r.server === s) preds[i] = classifyHeuristic(toToolInput(r, withAnnotations), model);
    });
  }
  return preds;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function overallTable(a: EvalMetrics, b: EvalMetrics): string[] {
  const line = (label: string, f: (m: EvalMetrics) => string) => `| ${label} | ${f(a)} | ${f(b)} |`;
  return [
    "| metric (leave-one-server-out) | annotations as given | annotations removed |",
    "|---|---|---|",
    line("tools", (m) => String(m.n)),
    line("access accuracy", (m) => `${pct(m.accessAccuracy)} (${m.accessRight}/${m.n})`),
    line("false-allow (non-read called read)", (m) => `${pct(m.falseAllowRate)} (${m.falseAllows}/${m.notRead})`),
    line("… of which not flagged unsure (allowed outright)", (m) => `${m.sureFalseAllows}`),
    line("read-allow (read tools called read)", (m) => pct(m.readAllowRate)),
    line("destructive precision", (m) => pct(m.destructivePrecision)),
    line("destructive recall", (m) => `${pct(m.destructiveRecall)} (of ${m.destructiveLabelled})`),
    line("risk within one level", (m) => pct(m.riskWithinOne)),
    line("risk exact", (m) => pct(m.riskExact)),
  ];
}

function calibrationTable(c: Calibration, d: Calibration): string[] {
  const out = [
    "| confidence | tools (ann. given) | access right | tools (ann. removed) | access right |",
    "|---|---|---|---|---|",
  ];
  c.bands.forEach((b, i) => {
    const e = d.bands[i]!;
    const to = b.to > 1 ? "1.0" : b.to.toFixed(1);
    out.push(
      `| ${b.from.toFixed(1)}–${to} | ${b.n} | ${b.n ? pct(b.right / b.n) : "–"} | ${e.n} | ${e.n ? pct(e.right / e.n) : "–"} |`,
    );
  });
  const at = (x: Calibration) => `${pct(x.atOrAbove.right / Math.max(1, x.atOrAbove.n))} of ${x.atOrAbove.n}`;
  const below = (x: Calibration) => `${pct(x.errorsBelow / Math.max(1, x.errors))} (${x.errorsBelow}/${x.errors})`;
  out.push(`| **≥ ${c.threshold} (LLM threshold): access right** | | ${at(c)} | | ${at(d)} |`);
  out.push(`| **access errors below the threshold** | | ${below(c)} | | ${below(d)} |`);
  return out;
}

function partTable(rows: LabelRow[], pa: Classification[], pr: Classification[], src: CorpusSource[]): string[] {
  const devServers = new Set(src.filter((x) => x.source === "dev set").map((x) => x.server));
  const out = [
    "| part | tools | access | false-allow | read-allow | destr. P | destr. R | risk ±1 | access, no ann. | false-allow, no ann. |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [label, dev] of [
    ["dev set", true],
    ["new corpus", false],
  ] as const) {
    const idx = rows.map((r, i) => (devServers.has(r.server) === dev ? i : -1)).filter((i) => i >= 0);
    const rs = idx.map((i) => rows[i]!);
    const a = score(
      rs,
      idx.map((i) => pa[i]!),
    );
    const b = score(
      rs,
      idx.map((i) => pr[i]!),
    );
    out.push(
      `| ${label} | ${a.n} | ${pct(a.accessAccuracy)} | ${a.falseAllows}/${a.notRead} | ${pct(a.readAllowRate)} | ${pct(a.destructivePrecision)} | ${pct(a.destructiveRecall)} | ${pct(a.riskWithinOne)} | ${pct(b.accessAccuracy)} | ${b.falseAllows}/${b.notRead} |`,
    );
  }
  return out;
}

function perServerTable(rows: LabelRow[], pa: Classification[], pr: Classification[], src: CorpusSource[]): string[] {
  const out = [
    "| server | labels | tools | access | false-allow | read-allow | destr. P | destr. R | risk ±1 | access, no ann. |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  const srcOf = new Map(src.map((s) => [s.server, s.source]));
  for (const s of [...new Set(rows.map((r) => r.server))].sort()) {
    const idx = rows.map((r, i) => (r.server === s ? i : -1)).filter((i) => i >= 0);
    const rs = idx.map((i) => rows[i]!);
    const a = score(
      rs,
      idx.map((i) => pa[i]!),
    );
    const b = score(
      rs,
      idx.map((i) => pr[i]!),
    );
    const dp = a.destructivePredicted ? pct(a.destructivePrecision) : "–";
    out.push(
      `| ${s} | ${srcOf.get(s)} | ${a.n} | ${pct(a.accessAccuracy)} | ${a.falseAllows}/${a.notRead} | ${a.reads ? pct(a.readAllowRate) : "–"} | ${dp} | ${a.destructiveLabelled ? pct(a.destructiveRecall) : "–"} | ${pct(a.riskWithinOne)} | ${pct(b.accessAccuracy)} |`,
    );
  }
  return out;
}

function main(): void {
  const args = process.argv.slice(2);
  const ci = args.indexOf("--corpus");
  const dir = resolve(ci >= 0 && args[ci + 1] ? args[ci + 1]! : "eval/corpus");
  const { rows, sources, invalid } = loadCorpus(dir);
  const fitter = args.includes("--fit") ? foldFitter(rows) : undefined;
  if (rows.length === 0) {
    console.error(`no labelled tools under ${dir}`);
    process.exit(1);
  }
  const withAnn = loso(rows, true, fitter);
  const noAnn = loso(rows, false, fitter);
  const ma = score(rows, withAnn);
  const mr = score(rows, noAnn);
  const ca = calibrate(rows, withAnn, UNSURE_BELOW);
  const cr = calibrate(rows, noAnn, UNSURE_BELOW);
  if (args.includes("--json")) {
    console.log(JSON.stringify({ sources, withAnnotations: ma, withoutAnnotations: mr, ca, cr }, null, 2));
    return;
  }
  const bySource = new Map<string, { servers: number; tools: number }>();
  for (const s of sources) {
    const e = bySource.get(s.source) ?? { servers: 0, tools: 0 };
    e.servers++;
    e.tools += s.n;
    bySource.set(s.source, e);
  }
  const servers = new Set(rows.map((r) => r.server)).size;
  console.log(`Corpus: ${rows.length} labelled tools from ${servers} servers (${dir.split("/").slice(-2).join("/")})`);
  for (const [k, v] of bySource) console.log(`- ${k}: ${v.tools} tools, ${v.servers} servers`);
  if (invalid) console.log(`- ${invalid} rows without a usable label left out`);
  console.log(
    `\nLeave-one-server-out${fitter ? ", weights refitted without the scored server" : ": hand weights, nothing fitted from data"}.\n`,
  );
  for (const l of overallTable(ma, mr)) console.log(l);
  // Held-out sanity check: the rules were written while reading errors on the whole corpus, so the two halves are
  // shown apart (the dev set came first; the new corpus was labelled later from other servers).
  console.log("\nBy part of the corpus (annotations as given / removed):\n");
  for (const l of partTable(rows, withAnn, noAnn, sources)) console.log(l);
  console.log("\nCalibration (access):\n");
  for (const l of calibrationTable(ca, cr)) console.log(l);
  if (args.includes("--servers")) {
    console.log("\nPer server (annotations as given unless said):\n");
    for (const l of perServerTable(rows, withAnn, noAnn, sources)) console.log(l);
  }
  if (args.includes("--errors")) {
    console.log("\nErrors (A = annotations as given, - = removed):");
    for (const [tag, preds] of [
      ["A", withAnn],
      ["-", noAnn],
    ] as const) {
      rows.forEach((r, i) => {
        const p = preds[i]!;
        const accessWrong = p.access !== r.category;
        const dWrong = p.destructive !== r.destructive;
        const riskFar = Math.abs(RISK_LEVEL[p.risk] - RISK_LEVEL[r.risk]) > 1;
        if (!accessWrong && !dWrong && !riskFar) return;
        const what = [
          accessWrong ? `access ${p.access}≠${r.category}` : "",
          dWrong ? `destr ${p.destructive}≠${r.destructive}` : "",
          riskFar ? `risk ${p.risk}≠${r.risk}` : "",
        ]
          .filter(Boolean)
          .join(" ");
        console.log(`  ${tag} ${r.server} :: ${r.tool} — ${what} conf=${p.confidence}`);
        if (args.includes("--why")) {
          console.log(`      desc: ${(r.description ?? "").slice(0, 200)}`);
          if (r.notes) console.log(`      note: ${r.notes.slice(0, 200)}`);
          console.log(`      ${p.signals.join(" | ")}`);
        }
      });
    }
  }
}

if (process.argv[1]?.endsWith("eval-classifier.ts")) main();
