import { CLASSIFIER_VERSION, createClassifier, MemoryLlmCache } from "../classify/index.js";
import type { ResolvedConfig } from "../core/config.js";
import type { Classification, RawTool } from "../core/types.js";
import { llmOptionsFrom } from "../pipeline/classifier.js";
import type { ToolClassifier } from "../pipeline/stages.js";

export { LlmUnavailableError } from "../classify/index.js";

/**
 * The classifier of a worker that must not open the catalog: src/classify's createClassifier with an in-memory
 * LLM cache. In strict mode an LLM that answered 429/5xx raises LlmUnavailableError instead of quietly falling
 * back to heuristics, so the queue can wait (429) or retry; `lenient` keeps the fallback (a job's last attempt).
 */
export function workerClassifier(
  config: ResolvedConfig,
  opts: { llm?: boolean } = {},
): ToolClassifier & { version: string; usesLlm: boolean; lenient: ToolClassifier } {
  const llm = opts.llm === false ? undefined : llmOptionsFrom(config);
  const useLlm = !!llm;
  // One request per tool: waiting out a 429 is the queue's job (it pauses every worker, not one slot).
  const cache = new MemoryLlmCache();
  // No time budget: a worker outlives runs (one attempt per tool, and the queue's retries, bound a hanging LLM).
  const settings = llm ? { ...llm, maxAttempts: 1, timeBudgetMs: 0 } : undefined;
  const strict = createClassifier({ cache, llm: settings, onUnavailable: "throw" });
  const inner = createClassifier({ cache, llm: settings });
  return {
    version: CLASSIFIER_VERSION,
    usesLlm: useLlm,
    lenient: { classify: (tool) => inner.classify(tool) },
    classify: (tool: RawTool & { server?: string }): Promise<Classification> => strict.classify(tool),
  };
}
