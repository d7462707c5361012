import type { Category, Classification, Risk } from "../core/types.js";
import { isPoisoningFlag } from "../core/vocabulary.js";
import type { ServerRow, ToolRow } from "../store/queries.js";
import { shortServerName } from "./names.js";
import { overrideFor, type PolicyOverrides } from "./overrides.js";
import type { Action, LaunchSpec, PolicyDecision, Profile, RateLimit, ToolDecision } from "./types.js";

/** Tool names every client format can carry without quoting tricks or wildcard meaning (MCP's recommended set). */
export const SAFE_TOOL_NAME = /^[A-Za-z0-9_.\-/]{1,128}$/;

interface Base {
  action: Action;
  limit?: RateLimit;
  reason: string;
}

const WRITE_LIMIT: RateLimit = { window: "minute", max: 30 };
const EXECUTE_LIMIT: RateLimit = { window: "minute", max: 10 };

/** A limit on every call to a server together, per profile. */
const ALL_TOOLS_LIMIT: Record<Profile, RateLimit | undefined> = {
  balanced: { window: "minute", max: 120 },
  strict: { window: "minute", max: 60 },
  permissive: undefined,
};

function what(c: Pick<Classification, "category" | "risk">): string {
  return `${c.category}, ${c.risk} risk`;
}

/** The profile's rule for a classified tool. Every branch says why in words a person can check. */
function byProfile(profile: Profile, c: Classification): Base {
  const w = what(c);
  switch (profile) {
    case "strict":
      if (c.category === "Read" && c.risk === "low") return { action: "allow", reason: `${w}: a low-risk read` };
      if (c.category === "Destructive" || c.category === "Financial")
        return { action: "hide", reason: `${w}: strict hides tools that delete data or move money` };
      return { action: "deny", reason: `${w}: strict allows only low-risk reads` };
    case "permissive":
      if (c.category === "Destructive" || c.category === "Financial")
        return { action: "approve", reason: `${w}: needs a person's approval for each call` };
      if (c.category === "Execute")
        return { action: "limit", limit: { window: "minute", max: 30 }, reason: `${w}: rate-limited` };
      if (c.risk === "critical") return { action: "approve", reason: `${w}: critical risk needs a person's approval` };
      return { action: "allow", reason: w };
    default:
      switch (c.category) {
        case "Read":
          if (c.risk === "high" || c.risk === "critical")
            return {
              action: "approve",
              reason: `${w}: a high-risk read (it can expose secrets or private data wholesale) needs approval`,
            };
          return { action: "allow", reason: `${w}: reads are allowed` };
        case "Write":
          if (c.risk === "critical") return { action: "approve", reason: `${w}: critical writes need approval` };
          return { action: "limit", limit: WRITE_LIMIT, reason: `${w}: writes are allowed at a limited rate` };
        case "Execute":
          if (c.risk === "critical") return { action: "approve", reason: `${w}: critical execution needs approval` };
          return { action: "limit", limit: EXECUTE_LIMIT, reason: `${w}: execution is allowed at a tight rate` };
        case "Destructive":
          return { action: "hide", reason: `${w}: destructive tools are hidden from the agent` };
        case "Financial":
          return {
            action: "approve",
            reason: `${w}: moves money, so each call is denied unless a person approved it`,
          };
      }
  }
}

function hasPoisoningFlag(c: Classification): string | undefined {
  return c.flags.find(isPoisoningFlag);
}

/** One decision for one tool. */
export function decideTool(
  tool: Pick<ToolRow, "name" | "classification">,
  profile: Profile,
  overrides?: PolicyOverrides,
  serverKeys: string[] = [],
): ToolDecision {
  const c = tool.classification;
  // Unclassified: assume the worst plausible case rather than guessing in its favour.
  const category: Category = c?.category ?? "Destructive";
  const risk: Risk = c?.risk ?? "critical";
  let base: Base;
  if (!c) {
    base = { action: "deny", reason: "not classified yet: treated as the riskiest case and denied until it is" };
  } else {
    const flag = hasPoisoningFlag(c);
    base = flag
      ? { action: "hide", reason: `${what(c)}: hidden because its definition is flagged (${flag})` }
      : byProfile(profile, c);
    // The classifier was not sure and no LLM settled it: a person approves what would otherwise be allowed freely.
    if (base.action === "allow" && c.flags.includes("unsure"))
      base = {
        action: "approve",
        reason: `${what(c)}: the classifier is unsure of this verdict, so each call needs approval`,
      };
  }
  const o = overrideFor(overrides, serverKeys, tool.name, c ? { category: c.category, risk: c.risk } : null);
  if (o) {
    base = {
      action: o.rule.action,
      ...(o.rule.limit ? { limit: { ...o.rule.limit } } : {}),
      reason: o.rule.reason ?? `${o.source}${c ? ` (${what(c)})` : " (not classified yet)"}`,
    };
  }
  // A name with wildcard or quoting characters could widen an allow rule in some client format: never allow it.
  if (!SAFE_TOOL_NAME.test(tool.name) && base.action !== "hide" && base.action !== "deny") {
    base = { action: "deny", reason: "its name has characters client rules cannot carry safely" };
  }
  const out: ToolDecision = { tool: tool.name, action: base.action, reason: base.reason, category, risk };
  if (base.action === "limit" && base.limit) out.limit = base.limit;
  return out;
}

/**
 * Why a server's tools are not on record as listed, from its newest probe: never probed, or that probe did not end
 * ok (null when it did). One wording for every place that serves a deny-all policy for such a server.
 */
export function whyNotListed(
  probe: { startedAt: string; outcome: string; error: string | null } | undefined | null,
): string | null {
  if (!probe) return "it has not been probed yet";
  if (probe.outcome === "ok") return null;
  const error = probe.error ? `: ${probe.error.replace(/\s+/g, " ").slice(0, 200)}` : "";
  return `the last probe (${probe.startedAt}) ended ${probe.outcome.replace(/_/g, " ")}${error}`;
}

/** One decision per tool of a server, from stored classifications. */
export function decidePolicy(
  server: Pick<ServerRow, "name" | "slug">,
  tools: Pick<ToolRow, "name" | "classification">[],
  opts: {
    profile?: Profile;
    overrides?: PolicyOverrides;
    serverKey?: string;
    launch?: LaunchSpec;
    /** Why the tools could not be listed (set when the server has none on record because probing failed). */
    unlisted?: string;
    /** Deny what needs approval: see {@link PolicyDecision.unattended}. */
    unattended?: boolean;
  } = {},
): PolicyDecision {
  const profile = opts.profile ?? "balanced";
  // The name the user's client knows the server by: given (--as, scan's configured name), else its short name.
  const serverKey = opts.serverKey ?? shortServerName(server.name);
  const keys = [...new Set([serverKey, server.slug, server.name])];
  const seen = new Set<string>();
  const decisions: ToolDecision[] = [];
  for (const t of tools) {
    if (seen.has(t.name)) continue;
    seen.add(t.name);
    let d = decideTool(t, profile, opts.overrides, keys);
    // Unattended: nobody approves, so what would ask is denied: approval tools, and rate-limited tools too (every
    // client format asks for those, since no client counts calls; under a YOLO mode they would run unlimited).
    if (opts.unattended && (d.action === "approve" || d.action === "limit")) {
      const { limit: _limit, ...rest } = d;
      d = {
        ...rest,
        action: "deny",
        reason: `${d.reason}; denied because the client runs unattended (nobody to approve${d.action === "limit" ? ", and clients cannot count calls" : ""})`,
      };
    }
    decisions.push(d);
  }
  decisions.sort((a, b) => (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0));
  const allTools = ALL_TOOLS_LIMIT[profile];
  return {
    server: server.name,
    serverKey,
    profile,
    tools: decisions,
    ...(allTools ? { allTools: { ...allTools } } : {}),
    ...(opts.launch ? { launch: opts.launch } : {}),
    ...(opts.unlisted !== undefined && decisions.length === 0 ? { unlisted: opts.unlisted } : {}),
    ...(opts.unattended ? { unattended: true } : {}),
  };
}
