/**
 * Worker entry point for machines that only run workers: `node dist/workers/main.js [worker flags]` from the built
 * package, or `node --import tsx workers/main.ts` from a checkout
 * (same flags as `mcp-census worker`; the global --config/--data-dir/--db flags work too).
 */
import { Command } from "commander";
import { registerWorker } from "../src/cli/worker.js";

const program = new Command("mcp-census-worker")
  .option("-c, --config <file>", "config file (JSON)")
  .option("--data-dir <dir>", "data folder (caches; the catalog only with --queues ingest)")
  .option("--db <file>", "SQLite catalog file (only with --queues ingest)")
  .option("--json", "machine-readable output")
  .option("-q, --quiet", "only errors");
registerWorker(program);
const args = process.argv.slice(2);
await program.parseAsync([
  process.argv[0] ?? "node",
  "workers/main.ts",
  ...(args[0] === "worker" ? args : ["worker", ...args]),
]);
