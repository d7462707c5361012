import {
  decidePolicy,
  POLICY_FORMATS,
  type PolicyDecision,
  type PolicyFormat,
  PROFILES,
  type Profile,
  renderPolicy,
} from "../policy/index.js";
import type { ServerRow, ToolRow } from "../store/queries.js";
import { ApiError } from "./errors.js";

/** Formats the API offers: the engine's, plus `decision` (the decision object every format is a view of). */
export const API_POLICY_FORMATS = ["decision", ...POLICY_FORMATS] as const;
export const DEFAULT_POLICY_FORMAT: PolicyFormat = "policy.json";

/** A rendered policy: `json` when the format's text is JSON (served as such), else the text. */
export interface BuiltPolicy {
  decision: PolicyDecision;
  format: string;
  json: unknown;
  text: string | null;
}

/**
 * Decides (in the policy engine, never here) and renders a server's policy; `unlisted` is why its tools are not on
 * record (see policyInputs), which makes the policy deny the whole server.
 */
export function buildPolicy(
  server: Pick<ServerRow, "name" | "slug">,
  tools: Pick<ToolRow, "name" | "classification">[],
  opts: {
    profile?: string | undefined;
    format?: string | undefined;
    as?: string | undefined;
    unlisted?: string | null;
  },
): BuiltPolicy {
  if (opts.profile !== undefined && !PROFILES.includes(opts.profile as Profile)) {
    throw new ApiError("bad_input", `profile: must be one of ${PROFILES.join(", ")}`, "profile");
  }
  const format = opts.format ?? DEFAULT_POLICY_FORMAT;
  if (!(API_POLICY_FORMATS as readonly string[]).includes(format)) {
    throw new ApiError("bad_input", `format: must be one of ${API_POLICY_FORMATS.join(", ")}`, "format");
  }
  // A server whose tools could not be listed gets a deny-all policy that says why, as from the CLI.
  const decision = decidePolicy(server, tools, {
    ...(opts.profile ? { profile: opts.profile as Profile } : {}),
    ...(opts.as !== undefined ? { serverKey: opts.as } : {}),
    ...(opts.unlisted != null ? { unlisted: opts.unlisted } : {}),
  });
  if (format === "decision") return { decision, format, json: decision, text: null };
  const text = renderPolicy(decision, format as PolicyFormat);
  try {
    return { decision, format, json: JSON.parse(text), text: null };
  } catch {
    return { decision, format, json: null, text };
  }
}
