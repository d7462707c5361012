import { logger } from "../core/log.js";
import type { Classification, ToolInput } from "../core/types.js";
import { deriveCategory, reconcileRisk } from "../core/vocabulary.js";
import { detectFlags } from "./flags.js";
import { classifyHeuristic } from "./heuristics.js";
import { type LlmAnswer, LlmClient, LlmUnavailableError, llmCacheKey } from "./llm.js";
import type { LlmCache } from "./llm-cache.js";
import { CLASSIFIER_VERSION } from "./version.js";

export { deriveCategory } from "../core/vocabulary.js";
export { detectFlags } from "./flags.js";
export { classifyHeuristic, splitName } from "./heuristics.js";
export { LlmAnswerSchema, LlmClient, LlmUnavailableError, llmCacheKey } from "./llm.js";
export { type LlmCache, MemoryLlmCache, PersistentLlmCache, type TextTable } from "./llm-cache.js";
export { CLASSIFIER_VERSION, PROMPT_VERSION } from "./version.js";

/** LLM settings for createClassifier; without them everything runs on heuristics. */
export interface ClassifierLlmOptions {
  baseURL: string;
  apiKey: string;
  model: string;
  /** Ask the LLM when the heuristic confidence is below this. */
  threshold: number;
  /** Tokens per run (usage.total_tokens) before falling back to heuristics. */
  tokenBudget: number;
  timeoutMs: number;
  /** Wall-clock time the LLM may take, from its first request (0 or unset: no limit); then heuristics, unsure. */
  timeBudgetMs?: number;
  /** Shared deadline of the time budget (see LlmSettings.budgetClock). */
  budgetClock?: { deadline?: number };
  maxAttempts?: number;
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
}

export interface ClassifierOptions {
  llm?: ClassifierLlmOptions;
  cache?: LlmCache;
  /** Ask the LLM for every tool, whatever the heuristic confidence (`--llm all`). */
  forceLlm?: boolean;
  /**
   * What to do when the endpoint stays unavailable (429/5xx): fall back to heuristics (default), or throw
   * LlmUnavailableError so a queue can wait out the rate limit and retry instead.
   */
  onUnavailable?: "fallback" | "throw";
}

export interface ClassifierStats {
  classified: number;
  heuristicOnly: number;
  llmRequests: number;
  llmAnswers: number;
  cacheHits: number;
  tokens: number;
  fallbacks: number;
  fallbackReasons: Record<string, number>;
}

export interface Classifier {
  classify(tool: ToolInput): Promise<Classification>;
  classifyMany(tools: ToolInput[], concurrency?: number): Promise<Classification[]>;
  stats(): ClassifierStats;
}

/** Turns an LLM answer into a Classification, keeping the invariants the heuristics keep. */
export function fromLlmAnswer(
  tool: ToolInput,
  answer: LlmAnswer,
  heuristic: Classification,
  source: "llm" | "llm-cache",
  model: string,
): Classification {
  const signals = [`${source === "llm" ? "LLM" : "cached LLM answer"} (${model}): ${answer.reason}`];
  let access = answer.access;
  let destructive = answer.destructive;
  let financial = answer.financial;
  let confidence = answer.confidence;
  // Calling a writing tool read is the worst mistake: a confident heuristic "not read" outvotes an LLM "read".
  if (access === "read" && heuristic.access !== "read" && heuristic.confidence >= 0.7) {
    access = heuristic.access;
    destructive = destructive || heuristic.destructive;
    financial = financial || heuristic.financial;
    confidence = Math.min(confidence, heuristic.confidence) * 0.8;
    signals.push(`LLM said read but the heuristics are confident it is ${heuristic.access} → kept ${heuristic.access}`);
  }
  if (access === "read") {
    destructive = false;
    financial = false;
  }
  const risk = reconcileRisk(answer.risk, access, destructive, financial);
  signals.push(`heuristics alone said ${heuristic.access} / ${heuristic.risk} (confidence ${heuristic.confidence})`);
  for (const s of heuristic.signals) signals.push(`heuristic: ${s}`);
  const c: Classification = {
    access,
    destructive,
    financial,
    category: deriveCategory(access, destructive, financial),
    risk,
    confidence: Math.round(Math.max(0, Math.min(1, confidence)) * 100) / 100,
    signals,
    flags: [],
    source,
    classifierVersion: CLASSIFIER_VERSION,
  };
  c.flags = detectFlags(tool, c);
  return c;
}

/** Creates a classifier: heuristics always, the LLM for unsure tools when configured. */
export function createClassifier(opts: ClassifierOptions = {}): Classifier {
  const llm = opts.llm ? new LlmClient(opts.llm) : undefined;
  const st: ClassifierStats = {
    classified: 0,
    heuristicOnly: 0,
    llmRequests: 0,
    llmAnswers: 0,
    cacheHits: 0,
    tokens: 0,
    fallbacks: 0,
    fallbackReasons: {},
  };

  const fallback = (h: Classification, reason: string): Classification => {
    st.fallbacks++;
    const bucket = reason.replace(/\d+/g, "N").slice(0, 60);
    st.fallbackReasons[bucket] = (st.fallbackReasons[bucket] ?? 0) + 1;
    return { ...h, signals: [...h.signals, `LLM not used: ${reason} → heuristics decided`] };
  };

  // Once the time budget is spent, every tool the LLM was wanted for keeps the heuristics' verdict, flagged unsure
  // (policies then ask before each call: fail closed), and the run is told once, in one line.
  let warnedOutOfTime = false;
  const outOfTime = (h: Classification): Classification => {
    if (!warnedOutOfTime) {
      warnedOutOfTime = true;
      logger.warn(
        `LLM time budget of ${Math.round((llm?.timeBudgetMs ?? 0) / 1000)} s used up: the remaining unsure tools keep the heuristics' verdict, flagged unsure (llmTimeBudgetMs, MCP_CENSUS_LLM_TIME_BUDGET_MS)`,
      );
    }
    const c = fallback(h, "LLM time budget used up");
    return c.flags.includes("unsure") ? c : { ...c, flags: [...c.flags, "unsure"] };
  };

  async function classify(tool: ToolInput): Promise<Classification> {
    st.classified++;
    const h = classifyHeuristic(tool);
    if (!llm || !opts.llm) {
      st.heuristicOnly++;
      return h;
    }
    if (!opts.forceLlm && h.confidence >= opts.llm.threshold) {
      st.heuristicOnly++;
      return {
        ...h,
        signals: [
          ...h.signals,
          `heuristic confidence ${h.confidence} ≥ threshold ${opts.llm.threshold} → heuristics decided`,
        ],
      };
    }
    const key = llmCacheKey(tool, llm.model);
    const cached = opts.cache?.get(key);
    if (cached) {
      st.cacheHits++;
      return fromLlmAnswer(tool, cached, h, "llm-cache", llm.model);
    }
    if (!llm.hasBudget()) return fallback(h, "token budget exhausted");
    if (llm.timeLeft() <= 0) return outOfTime(h);
    const before = llm.requests;
    const out = await llm.classify(tool, h.signals);
    st.llmRequests += llm.requests - before;
    st.tokens += out.tokens;
    if (!out.ok && out.outOfTime) return outOfTime(h);
    if (!out.ok) {
      const unavailable = out.status !== undefined && (out.status === 429 || out.status >= 500);
      if (unavailable && opts.onUnavailable === "throw") throw new LlmUnavailableError(out.status!, out.retryAfterMs);
      return fallback(h, out.reason);
    }
    st.llmAnswers++;
    opts.cache?.set(key, out.answer);
    return fromLlmAnswer(tool, out.answer, h, "llm", llm.model);
  }

  async function classifyMany(tools: ToolInput[], concurrency = 4): Promise<Classification[]> {
    const results = new Array<Classification>(tools.length);
    let next = 0;
    const worker = async () => {
      while (next < tools.length) {
        const i = next++;
        results[i] = await classify(tools[i]!);
      }
    };
    const n = Math.max(1, Math.min(concurrency, tools.length));
    await Promise.all(Array.from({ length: n }, worker));
    return results;
  }

  return { classify, classifyMany, stats: () => ({ ...st, fallbackReasons: { ...st.fallbackReasons } }) };
}
