import { CLASSIFIER_VERSION, type Classifier, createClassifier, PersistentLlmCache } from "../classify/index.js";
import type { ResolvedConfig } from "../core/config.js";
import type { Sqlite } from "../store/db.js";
import { llmCacheTable } from "../store/llm-cache.js";

/** LLM options from the config, or undefined when no endpoint/key is configured (heuristics only). */
export function llmOptionsFrom(config: ResolvedConfig) {
  if (!config.llmApiKey) return undefined;
  return {
    baseURL: config.llmBaseUrl ?? "https://api.openai.com/v1",
    apiKey: config.llmApiKey,
    model: config.llmModel,
    threshold: config.llmThreshold,
    tokenBudget: config.llmTokenBudget,
    timeoutMs: config.llmTimeoutMs,
    timeBudgetMs: config.llmTimeBudgetMs,
  };
}

/** The classifier of the process that owns the catalog: LLM answers cached in the catalog itself. */
export function createCatalogClassifier(
  sqlite: Sqlite,
  config: ResolvedConfig,
  opts: { llm?: boolean; forceLlm?: boolean; timeBudget?: boolean } = {},
): Classifier & { version: string } {
  const options = opts.llm === false ? undefined : llmOptionsFrom(config);
  // The time budget is per run: a process that outlives runs (a worker hosting the ingest consumer) has none.
  const llm = options && opts.timeBudget === false ? { ...options, timeBudgetMs: 0 } : options;
  const c = createClassifier({
    llm,
    cache: llm ? new PersistentLlmCache(llmCacheTable(sqlite)) : undefined,
    forceLlm: opts.forceLlm,
  });
  return Object.assign(c, { version: CLASSIFIER_VERSION });
}
