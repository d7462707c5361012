/**
 * Scores the heuristic classifier on the hand-labelled dev set, with annotations as given and with them removed.
 * Usage: npx tsx scripts/eval-classifier.ts [--file path] [--errors] [--json]
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { classifyHeuristic } from "../src/classify/heuristics.js";
import type { Access, Classification, Risk, ToolInput } from "../src/core/types.js";

interface DevRow {
  server: string;
  tool: string;
  description: string | null;
  params: string[];
  annotations: Record<string, unknown> | null;
  category: Access;
  destructive: boolean;
  risk: Exclude<Risk, "critical">;
  notes?: string;
}

/** Metrics printed for one pass over the dev set. */
export interface EvalMetrics {
  n: number;
  accessAccuracy: number;
  readVsNotRead: number;
  falseAllowRate: number;
  falseAllows: number;
  notRead: number;
  readAllowRate: number;
  destructivePrecision: number;
  destructiveRecall: number;
  riskExact: number;
  riskWithinOne: number;
}

const RISK_LEVEL: Record<Risk, number> = { low: 0, medium: 1, high: 2, critical: 2 };

/** Turns a dev-set row into what the classifier reads; the dev set lists parameter names without types. */
export function toToolInput(row: DevRow, withAnnotations: boolean): ToolInput {
  const properties: Record<string, unknown> = {};
  for (const p of row.params) properties[p] = {};
  return {
    server: row.server,
    name: row.tool,
    description: row.description ?? undefined,
    inputSchema: { type: "object", properties },
    annotations: withAnnotations ? row.annotations : null,
  };
}

/** Scores predictions against labels. */
export function score(rows: DevRow[], preds: Classification[]): EvalMetrics {
  let access = 0;
  let rvn = 0;
  let fa = 0;
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
    if ((p.access === "read") === (r.category === "read")) rvn++;
    if (r.category !== "read") {
      notRead++;
      if (p.access === "read") fa++;
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
    accessAccuracy: access / n,
    readVsNotRead: rvn / n,
    falseAllowRate: fa / Math.max(1, notRead),
    falseAllows: fa,
    notRead,
    readAllowRate: readOk / Math.max(1, reads),
    destructivePrecision: tp / Math.max(1, tp + fp),
    destructiveRecall: tp / Math.max(1, tp + fn),
    riskExact: exact / n,
    riskWithinOne: within / n,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function print(label: string, m: EvalMetrics): void {
  console.log(`\n${label} (n=${m.n})`);
  console.log(`  access accuracy            ${pct(m.accessAccuracy)}`);
  console.log(`  read vs not-read accuracy  ${pct(m.readVsNotRead)}`);
  console.log(
    `  false-allow rate           ${pct(m.falseAllowRate)} (${m.falseAllows}/${m.notRead} not-read tools classified read)`,
  );
  console.log(`  read-allow rate            ${pct(m.readAllowRate)}`);
  console.log(`  destructive precision      ${pct(m.destructivePrecision)}`);
  console.log(`  destructive recall         ${pct(m.destructiveRecall)}`);
  console.log(`  risk exact                 ${pct(m.riskExact)}`);
  console.log(`  risk within one level      ${pct(m.riskWithinOne)}`);
}

function main(): void {
  const args = process.argv.slice(2);
  const fileIdx = args.indexOf("--file");
  const file = resolve(fileIdx >= 0 && args[fileIdx + 1] ? args[fileIdx + 1]! : "../shared/dev-set/tools.jsonl");
  const rows = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as DevRow);
  const out: Record<string, EvalMetrics> = {};
  for (const withAnn of [true, false]) {
    const preds = rows.map((r) => classifyHeuristic(toToolInput(r, withAnn)));
    const m = score(rows, preds);
    out[withAnn ? "withAnnotations" : "withoutAnnotations"] = m;
    if (!args.includes("--json"))
      print(withAnn ? "Heuristics, annotations as given" : "Heuristics, annotations removed", m);
    if (args.includes("--errors")) {
      rows.forEach((r, i) => {
        const p = preds[i]!;
        const accessWrong = p.access !== r.category;
        const dWrong = p.destructive !== r.destructive;
        const riskFar = Math.abs(RISK_LEVEL[p.risk] - RISK_LEVEL[r.risk]) > 1;
        const riskWrong = RISK_LEVEL[p.risk] !== RISK_LEVEL[r.risk];
        if (accessWrong || dWrong || riskFar || (args.includes("--risk") && riskWrong)) {
          const what = [
            accessWrong ? `access ${p.access}≠${r.category}` : "",
            dWrong ? `destr ${p.destructive}≠${r.destructive}` : "",
            riskWrong ? `risk ${p.risk}≠${r.risk}` : "",
          ]
            .filter(Boolean)
            .join(" ");
          console.log(`  ${withAnn ? "A" : "-"} ${r.tool.padEnd(36)} ${what} conf=${p.confidence}`);
          if (args.includes("--why")) console.log(`      ${p.signals.join(" | ")}`);
        }
      });
    }
  }
  if (args.includes("--json")) console.log(JSON.stringify(out, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("eval-classifier.ts")) main();
