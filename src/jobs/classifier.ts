import { CLASSIFIER_VERSION, createClassifier, MemoryLlmCache } from "../classify/index.js";
import type { ResolvedConfig } from "../core/config.js";
import type { Classification, RawTool } from "../core/types.js";
import { llmOptionsFrom } from "../pipeline/classifier.js";
import type { ToolClassifier } from "../pipeline/stages.js";

/** The LLM gave up with HTTP 429 or 5xx: the job should wait (429) or be retried (5xx), not store a fallback. */
export class LlmUnavailableError extends Error {
  constructor(readonly status: number) {
    super(`LLM answered HTTP ${status}`);
    this.name = "LlmUnavailableError";
  }
  get code(): string | undefined {
    return this.status === 429 ? "rate_limited" : undefined;
  }
}

const FALLBACK = /LLM not used: HTTP (\d{3})\b/;

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
  const inner = createClassifier({ cache: new MemoryLlmCache(), llm: llm ? { ...llm, maxAttempts: 1 } : undefined });
  return {
    version: CLASSIFIER_VERSION,
    usesLlm: useLlm,
    lenient: { classify: (tool) => inner.classify(tool) },
    async classify(tool: RawTool & { server?: string }): Promise<Classification> {
      const c = await inner.classify(tool);
      const m = FALLBACK.exec(c.signals[c.signals.length - 1] ?? "");
      const status = m ? Number(m[1]) : 0;
      if (status === 429 || status >= 500) throw new LlmUnavailableError(status);
      return c;
    },
  };
}
