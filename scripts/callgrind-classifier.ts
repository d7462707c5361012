/**
 * Instruction count of the heuristic classifier, repeatable on a loaded machine (wall and CPU times move 10–15 % from
 * run to run on the shared cores): classifies W × N generated tools to warm up (the same generator as
 * scripts/bench-classifier.ts), then switches callgrind's instrumentation on for N more and off again. Compare trees
 * by the "I refs" line (a bundle per tree: `npx esbuild scripts/callgrind-classifier.ts --bundle --platform=node
 * --format=esm --packages=external --outfile=<tree>/cg.mjs`, run from the repository root).
 *
 * Usage: W=8 N=4000 valgrind --tool=callgrind --instr-atstart=no [--branch-sim=yes --cache-sim=yes] \
 *          node --single-threaded [--perf-basic-prof] cg.mjs
 * (--single-threaded: the optimising compiler runs on the main thread, outside the counted loop once warm;
 * --perf-basic-prof: /tmp/perf-<pid>.map names the JIT code callgrind_annotate shows as addresses.)
 */
import { execSync } from "node:child_process";
import { resolve } from "node:path";
import { classifyHeuristic } from "../src/classify/heuristics.js";
import type { ToolInput } from "../src/core/types.js";
import { generate, loadSources, rng } from "./classifier-inputs.js";

const src = loadSources(resolve(process.cwd(), "../shared"));
const rand = rng(42);
const N = Number(process.env.N ?? 4000);
const W = Number(process.env.W ?? 8);
const buf: ToolInput[] = [];
for (let r = 0; r < W; r++) {
  generate(src, N, rand, buf);
  for (const t of buf) classifyHeuristic(t);
}
generate(src, N, rand, buf);
let reads = 0;
execSync(`callgrind_control -i on ${process.pid}`);
for (const t of buf) if (classifyHeuristic(t).access === "read") reads++;
execSync(`callgrind_control -i off ${process.pid}`);
console.log(`classified ${N} tools (${reads} read) with instrumentation on`);
