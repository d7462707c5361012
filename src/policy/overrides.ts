import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { AppError } from "../core/errors.js";
import { parseUntrustedJson } from "../core/json.js";
import type { Category, Risk } from "../core/types.js";
import { CategorySchema, RiskSchema } from "../core/vocabulary.js";
import type { Action, RateLimit } from "./types.js";

const LimitSchema = z.strictObject({
  window: z.enum(["minute", "hour"]),
  max: z.number().int().min(1).max(1_000_000),
});

/** What an override says about a tool: an action, its limit when the action is `limit`, and why. */
export const OverrideRuleSchema = z
  .strictObject({
    action: z.enum(["allow", "limit", "approve", "hide", "deny"]),
    limit: LimitSchema.optional(),
    reason: z.string().max(500).optional(),
  })
  .refine((r) => r.action !== "limit" || r.limit !== undefined, {
    message: 'action "limit" needs a limit: {"window": "minute"|"hour", "max": N}',
    path: ["limit"],
  })
  .refine((r) => r.action === "limit" || r.limit === undefined, {
    message: 'a limit only goes with action "limit"',
    path: ["limit"],
  });
export type OverrideRule = z.infer<typeof OverrideRuleSchema>;

/**
 * User overrides. The most specific wins: a tool (by `server/tool` or by name) over its category over its risk over
 * the profile. Category and risk overrides never touch a tool that has no classification yet.
 */
export const PolicyOverridesSchema = z.strictObject({
  tools: z.record(z.string().min(1).max(300), OverrideRuleSchema).optional(),
  categories: z.partialRecord(CategorySchema, OverrideRuleSchema).optional(),
  risks: z.partialRecord(RiskSchema, OverrideRuleSchema).optional(),
});
export type PolicyOverrides = z.infer<typeof PolicyOverridesSchema>;

/** Reads and validates an overrides file (JSON, or YAML by extension); errors are one clear line. */
export function loadOverrides(path: string): PolicyOverrides {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new AppError(
      "bad_input",
      `cannot read overrides file ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
      {
        cause: err,
      },
    );
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(path) ? parseYaml(text) : parseUntrustedJson(text);
  } catch (err) {
    const msg = (err as Error).message.split("\n")[0];
    throw new AppError(
      "bad_input",
      `overrides file ${path} is not valid ${/\.ya?ml$/i.test(path) ? "YAML" : "JSON"}: ${msg}`,
      {
        cause: err,
      },
    );
  }
  return parseOverrides(data, path);
}

/** Validates overrides already parsed from JSON/YAML. */
export function parseOverrides(data: unknown, where = "overrides"): PolicyOverrides {
  const r = PolicyOverridesSchema.safeParse(data ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const at = issue?.path.length ? issue.path.map(String).join(".") : "(top level)";
    throw new AppError("bad_input", `${where}: ${at}: ${issue?.message ?? "invalid"}`);
  }
  return r.data;
}

/** The override that applies to one tool, most specific first; undefined when none does. */
export function overrideFor(
  overrides: PolicyOverrides | undefined,
  serverKeys: string[],
  tool: string,
  classification: { category: Category; risk: Risk } | null,
): { rule: OverrideRule; source: string } | undefined {
  if (!overrides) return undefined;
  for (const key of serverKeys) {
    const r = overrides.tools?.[`${key}/${tool}`];
    if (r) return { rule: r, source: `override for ${key}/${tool}` };
  }
  const byName = overrides.tools?.[tool];
  if (byName) return { rule: byName, source: `override for tool ${tool}` };
  if (!classification) return undefined;
  const byCat = overrides.categories?.[classification.category];
  if (byCat) return { rule: byCat, source: `override for category ${classification.category}` };
  const byRisk = overrides.risks?.[classification.risk];
  if (byRisk) return { rule: byRisk, source: `override for ${classification.risk} risk` };
  return undefined;
}

export type { Action, RateLimit };
