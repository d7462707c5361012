import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { Command } from "commander";
import { type Classifier, createClassifier, PersistentLlmCache } from "../classify/index.js";
import type { LlmCache } from "../classify/llm-cache.js";
import type { ResolvedConfig } from "../core/config.js";
import { AppError, oneLine } from "../core/errors.js";
import { parseUntrustedJson } from "../core/json.js";
import type { ToolInput } from "../core/types.js";
import { openLlmCacheFile } from "../store/llm-cache.js";
import { action, configFor } from "./common.js";

/** One parsed input line: a tool, or the reason the line could not be read. */
export type ParsedLine = { line: number; tool: ToolInput } | { line: number; error: string };

/** Parses one JSONL line into a ToolInput; odd optional fields are dropped rather than failing the line. */
export function parseToolLine(text: string, line: number): ParsedLine {
  let v: unknown;
  try {
    v = parseUntrustedJson(text);
  } catch (err) {
    return { line, error: `not valid JSON: ${oneLine(err).slice(0, 120)}` };
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return { line, error: "not a JSON object" };
  const o = v as Record<string, unknown>;
  if (typeof o.name !== "string" || o.name.trim() === "") return { line, error: "missing tool name" };
  const tool: ToolInput = { name: o.name };
  if (typeof o.server === "string") tool.server = o.server;
  if (typeof o.title === "string") tool.title = o.title;
  if (typeof o.description === "string") tool.description = o.description;
  if (o.inputSchema !== undefined) tool.inputSchema = o.inputSchema;
  if (o.outputSchema !== undefined) tool.outputSchema = o.outputSchema;
  if (o.annotations && typeof o.annotations === "object" && !Array.isArray(o.annotations))
    tool.annotations = o.annotations as Record<string, unknown>;
  return { line, tool };
}

async function writeLine(out: Writable, obj: unknown): Promise<void> {
  if (!out.write(`${JSON.stringify(obj)}\n`)) await once(out, "drain");
}

/** Classifies a JSONL stream into a JSONL stream in input order; returns how many lines were classified and failed. */
export async function runClassify(
  input: Readable,
  output: Writable,
  classifier: Classifier,
  opts: { batchSize?: number; concurrency?: number } = {},
): Promise<{ classified: number; failed: number }> {
  const batchSize = opts.batchSize ?? 256;
  let classified = 0;
  let failed = 0;
  let batch: ParsedLine[] = [];
  const flush = async () => {
    const tools = batch.flatMap((p) => ("tool" in p ? [p.tool] : []));
    const results = await classifier.classifyMany(tools, opts.concurrency ?? 4);
    let i = 0;
    for (const p of batch) {
      if ("error" in p) {
        failed++;
        await writeLine(output, { line: p.line, error: p.error });
        continue;
      }
      const c = results[i++]!;
      classified++;
      await writeLine(output, {
        server: p.tool.server ?? null,
        tool: p.tool.name,
        access: c.access,
        category: c.category,
        destructive: c.destructive,
        financial: c.financial,
        risk: c.risk,
        confidence: c.confidence,
        signals: c.signals,
        flags: c.flags,
      });
    }
    batch = [];
  };
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const raw of rl) {
    n++;
    if (raw.trim() === "") continue;
    batch.push(parseToolLine(raw, n));
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return { classified, failed };
}

interface ClassifyOpts {
  input?: string;
  output?: string;
  /** false with --no-llm, "all" with --llm all. */
  llm?: string | boolean;
  concurrency?: string;
}

function cacheFor(config: ResolvedConfig): { cache?: LlmCache; close(): void } {
  // The cache shares the catalog file; without a writable catalog the LLM still works, only uncached.
  try {
    const file = openLlmCacheFile(config.dbPath);
    return { cache: new PersistentLlmCache(file.table), close: file.close };
  } catch {
    return { close: () => {} };
  }
}

/** Registers `classify`: JSONL of tools in, JSONL of classifications out. */
export function registerClassify(program: Command): void {
  program
    .command("classify")
    .description("classify MCP tool definitions (JSONL in, JSONL out): access, category, risk, signals, flags")
    .option("-i, --input <file>", "input JSONL, one tool per line (default stdin)")
    .option("-o, --output <file>", "output JSONL (default stdout)")
    .option("--llm <mode>", "'all' asks the LLM for every tool, not only unsure ones")
    .option("--no-llm", "heuristics only, even when an LLM is configured")
    .option("--concurrency <n>", "LLM requests in flight", "4")
    .addHelpText(
      "after",
      '\nInput line:  {"server","name","title"?,"description"?,"inputSchema"?,"annotations"?}\n' +
        'Output line: {"server","tool","access","category","destructive","financial","risk","confidence","signals","flags"}\n' +
        'Bad lines yield {"line": N, "error": "..."}; the exit code is 2 if any line failed.\n' +
        "LLM: OPENAI_BASE_URL, OPENAI_API_KEY, MCP_CENSUS_LLM_MODEL (used below MCP_CENSUS_LLM_THRESHOLD confidence).",
    )
    .action(
      action(async (opts: ClassifyOpts, cmd: Command) => {
        if (opts.llm !== undefined && opts.llm !== false && opts.llm !== "all")
          throw new AppError("bad_input", `--llm takes 'all' (got '${String(opts.llm)}'); use --no-llm to disable it`);
        const concurrency = Number(opts.concurrency ?? 4);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
          throw new AppError("bad_input", "--concurrency must be an integer from 1 to 64");
        const config = configFor(cmd);
        const useLlm = opts.llm !== false && !!config.llmApiKey;
        if (opts.llm === "all" && !config.llmApiKey)
          throw new AppError(
            "config_invalid",
            "--llm all needs OPENAI_API_KEY (and OPENAI_BASE_URL for other endpoints)",
          );
        const cache = useLlm ? cacheFor(config) : { close() {} };
        const classifier = createClassifier({
          llm: useLlm
            ? {
                baseURL: config.llmBaseUrl ?? "https://api.openai.com/v1",
                apiKey: config.llmApiKey!,
                model: config.llmModel,
                threshold: config.llmThreshold,
                tokenBudget: config.llmTokenBudget,
                timeoutMs: config.llmTimeoutMs,
                timeBudgetMs: config.llmTimeBudgetMs,
              }
            : undefined,
          cache: cache.cache,
          forceLlm: opts.llm === "all",
        });
        const input = opts.input ? createReadStream(opts.input) : process.stdin;
        const output = opts.output ? createWriteStream(opts.output) : process.stdout;
        const inputFailed = new Promise<never>((_, reject) =>
          input.once("error", (e: Error) =>
            reject(new AppError("io_error", `cannot read ${opts.input}: ${oneLine(e)}`)),
          ),
        );
        const outputFailed = new Promise<never>((_, reject) =>
          output.once("error", (e: Error) =>
            reject(new AppError("io_error", `cannot write ${opts.output}: ${oneLine(e)}`)),
          ),
        );
        try {
          const res = await Promise.race([
            runClassify(input, output, classifier, { concurrency }),
            inputFailed,
            outputFailed,
          ]);
          if (opts.output) {
            (output as ReturnType<typeof createWriteStream>).end();
            await Promise.race([once(output, "finish"), outputFailed]);
          }
          const g = cmd.optsWithGlobals() as { quiet?: boolean };
          if (useLlm && !g.quiet) {
            const s = classifier.stats();
            process.stderr.write(
              `classify: ${res.classified} tools, ${res.failed} bad lines; LLM ${s.llmAnswers} answers, ${s.cacheHits} cached, ${s.tokens} tokens, ${s.fallbacks} fallbacks\n`,
            );
          }
          if (res.failed > 0) {
            if (!g.quiet) process.stderr.write(`mcp-census: ${res.failed} input line(s) could not be classified\n`);
            process.exitCode = 2;
          }
        } finally {
          cache.close();
        }
      }),
    );
}
