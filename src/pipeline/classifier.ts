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
  };
}

/** The classifier of the process that owns the catalog: LLM answers cached in the catalog itself. */
export function createCatalogClassifier(
  sqlite: Sqlite,
  config: ResolvedConfig,
  opts: { llm?: boolean; forceLlm?: boolean } = {},
): Classifier & { version: string } {
  const llm = opts.llm === false ? undefined : llmOptionsFrom(config);
  const c = createClassifier({
    llm,
    cache: llm ? new PersistentLlmCache(llmCacheTable(sqlite)) : undefined,
    forceLlm: opts.forceLlm,
  });
  return Object.assign(c, { version: CLASSIFIER_VERSION });
}
