import { CLASSIFIER_VERSION, createClassifier, MemoryLlmCache } from "../classify/index.js";
import type { ResolvedConfig } from "../core/config.js";
import type { Classification, RawTool } from "../core/types.js";
import { llmOptionsFrom } from "../pipeline/classifier.js";
import type { ToolClassifier } from "../pipeline/stages.js";

export { LlmUnavailableError } from "../classify/index.js";

/** A classifier for one run's classify jobs: strict, and `lenient` for a job's last attempt. */
export type RunClassifier = ToolClassifier & { lenient: ToolClassifier };

/** Runs whose LLM time budget a worker keeps at once (runs overlap rarely; the oldest is forgotten). */
const RUNS_KEPT = 8;

/**
 * The classifier of a worker that must not open the catalog: src/classify's createClassifier with an in-memory
 * LLM cache. In strict mode an LLM that answered 429/5xx raises LlmUnavailableError instead of quietly falling
 * back to heuristics, so the queue can wait (429) or retry; `lenient` keeps the fallback (a job's last attempt).
 *
 * A worker outlives runs, so the LLM time budget (llmTimeBudgetMs) is kept per run: `forRun(runKey)` gives the
 * classifier whose budget starts at that run's first request in this worker. Workers run side by side, so a run's
 * LLM time is bounded by about the budget whatever the number of workers (a hanging endpoint cost one attempt × 30 s
 * for every unsure tool, with no bound).
 */
export function workerClassifier(
  config: ResolvedConfig,
  opts: { llm?: boolean } = {},
): RunClassifier & { version: string; usesLlm: boolean; forRun(runKey: string): RunClassifier } {
  const llm = opts.llm === false ? undefined : llmOptionsFrom(config);
  const useLlm = !!llm;
  // One request per tool: waiting out a 429 is the queue's job (it pauses every worker, not one slot).
  const cache = new MemoryLlmCache();
  const make = (timeBudgetMs: number): RunClassifier => {
    // The strict and the lenient classifier of a run share its deadline.
    const settings = llm ? { ...llm, maxAttempts: 1, timeBudgetMs, budgetClock: {} } : undefined;
    const strict = createClassifier({ cache, llm: settings, onUnavailable: "throw" });
    const inner = createClassifier({ cache, llm: settings });
    return {
      lenient: { classify: (tool) => inner.classify(tool) },
      classify: (tool: RawTool & { server?: string }): Promise<Classification> => strict.classify(tool),
    };
  };
  const unbounded = make(0);
  const runs = new Map<string, RunClassifier>();
  return {
    version: CLASSIFIER_VERSION,
    usesLlm: useLlm,
    ...unbounded,
    forRun(runKey: string): RunClassifier {
      if (!llm?.timeBudgetMs) return unbounded;
      let c = runs.get(runKey);
      if (!c) {
        c = make(llm.timeBudgetMs);
        runs.set(runKey, c);
        if (runs.size > RUNS_KEPT) runs.delete(runs.keys().next().value!);
      }
      return c;
    },
  };
}
