import type { Command } from "commander";
import { AppError } from "../core/errors.js";
import { QUEUE_NAMES, type QueueName } from "../jobs/queues.js";
import { runWorkerProcess } from "../jobs/worker-process.js";
import { action, configFor } from "./common.js";

interface WorkerFlags {
  queues: string;
  concurrency?: string;
  classifyConcurrency?: string;
  llmPerMinute?: string;
  llm: boolean;
  lockDuration?: string;
  stalledInterval?: string;
  maxStalled?: string;
  allowUnsandboxed?: boolean;
  allowPrivateNetwork?: boolean;
  statusPort?: string;
}

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new AppError("bad_input", `${flag} must be a positive integer, got "${v}"`);
  return n;
}

/** Parses `--queues probe,classify,ingest`. */
export function parseQueues(spec: string): QueueName[] {
  const out = [
    ...new Set(
      spec
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  for (const q of out) {
    if (!(QUEUE_NAMES as readonly string[]).includes(q)) {
      throw new AppError("bad_input", `unknown queue "${q.slice(0, 40)}": use ${QUEUE_NAMES.join(", ")}`);
    }
  }
  if (!out.length) throw new AppError("bad_input", "--queues names no queue");
  return out as QueueName[];
}

/** `mcp-census worker`: BullMQ workers for the distributed crawl (REDIS_URL). */
export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description(
      "run BullMQ workers for the distributed crawl (needs REDIS_URL).\n" +
        "probe and classify workers share nothing but Redis; exactly one process per deployment runs\n" +
        "`--queues ingest` and writes the catalog",
    )
    .option("--queues <list>", `comma-separated: ${QUEUE_NAMES.join(", ")}`, "probe,classify")
    .option("--concurrency <n>", "probe jobs at once in this process (default: config concurrency)")
    .option("--classify-concurrency <n>", "classify jobs at once in this process", "4")
    .option("--llm-per-minute <n>", "classify jobs per minute across all workers (the LLM quota)")
    .option("--no-llm", "heuristics only, even when an LLM is configured")
    .option("--lock-duration <ms>", "job lock lifetime: a dead worker's jobs come back after about this")
    .option("--stalled-interval <ms>", "how often to look for jobs of dead workers")
    .option("--max-stalled <n>", "worker deaths a job may cause before it fails (bounds poison jobs)")
    .option("--status-port <port>", "serve a queue status page (HTML and /status.json) on this loopback port")
    .option("--allow-unsandboxed", "launch servers without bubblewrap when it is missing (unsafe)")
    .option("--allow-private-network", "let remote probes reach loopback and private addresses")
    .action(
      action(async (flags: WorkerFlags, cmd: Command) => {
        const config = configFor(cmd, {
          allowUnsandboxed: flags.allowUnsandboxed || undefined,
          allowPrivateNetwork: flags.allowPrivateNetwork || undefined,
        });
        const maxStalled = flags.maxStalled === undefined ? undefined : Number(flags.maxStalled);
        if (maxStalled !== undefined && !(Number.isInteger(maxStalled) && maxStalled >= 0)) {
          throw new AppError("bad_input", `--max-stalled must be a whole number, got "${flags.maxStalled}"`);
        }
        await runWorkerProcess(config, {
          queues: parseQueues(flags.queues),
          concurrency: positiveInt(flags.concurrency, "--concurrency"),
          classifyConcurrency: positiveInt(flags.classifyConcurrency, "--classify-concurrency"),
          llmPerMinute: positiveInt(flags.llmPerMinute, "--llm-per-minute"),
          llm: flags.llm,
          statusPort: flags.statusPort === undefined ? undefined : Number(flags.statusPort),
          tuning: {
            lockDuration: positiveInt(flags.lockDuration, "--lock-duration"),
            stalledInterval: positiveInt(flags.stalledInterval, "--stalled-interval"),
            maxStalledCount: maxStalled,
          },
        });
      }),
    );
}
