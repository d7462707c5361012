/** Version of the classifier's rules; stored with every classification so re-classification can be targeted. */
export const CLASSIFIER_VERSION = "2026.1-f18";

/** Version of the LLM prompt; part of the LLM cache key so a prompt change never reuses old answers. */
export const PROMPT_VERSION = "p2";
