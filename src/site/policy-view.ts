import {
  decidePolicy,
  POLICY_FORMATS,
  type PolicyDecision,
  type PolicyFormat,
  type Profile,
  renderPolicy,
  ruleForTool,
  type ToolDecision,
  whyNotListed,
} from "../policy/index.js";
import type { ProbeRow, ServerRow, ToolRow } from "../store/queries.js";
import { escapeHtml, type Html, raw } from "./html.js";

/** The policy views a server's pages show: all read from one decision made by src/policy. */
export interface ServerPolicy {
  formats: readonly string[];
  /** The name every policy gives the server (the key in the client's config), as the install snippet beside it does. */
  serverKey: string;
  /** The full policy of the server in each format. */
  full: { format: string; text: string }[];
  /** The recommended rule for one tool in one format. */
  rule(toolName: string, format: string): string;
  /** The same rule escaped for HTML. */
  ruleMarkup(toolName: string, format: string): Html;
  /** The decision for one tool (action and the reason in words). */
  decision(toolName: string): Pick<ToolDecision, "action" | "reason"> | undefined;
}

/**
 * The policy views of one server. `probe` is its newest probe: a server with no tools whose tools could not be listed
 * gets the deny-all policy that says why (as from the CLI and the API), not an empty one that looks harmless.
 */
export type PolicyProvider = (
  server: ServerRow,
  tools: ToolRow[],
  probe?: Pick<ProbeRow, "startedAt" | "outcome" | "error">,
) => ServerPolicy;

/**
 * Tool names every format writes the same way as the placeholder: plain in JSON, TOML and YAML (keys and values),
 * unchanged by Claude Code's name normalisation. Other names are rendered directly.
 */
const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const PLACEHOLDER = "mcp_census_placeholder_tool_7f3a";

/**
 * One decision per server from src/policy, rendered in every policy format. A tool's rule differs from that of
 * another tool with the same decision (action, reason, limit, category, risk) only by its name, so each such rule is
 * rendered once per server and format with a placeholder name and the name put in (pages show 7 rules per tool).
 */
export function policyProvider(profile: Profile = "balanced"): PolicyProvider {
  return (server, tools, probe) => {
    const unlisted = tools.length === 0 ? whyNotListed(probe) : null;
    const decision: PolicyDecision = decidePolicy(server, tools, {
      profile,
      ...(unlisted !== null ? { unlisted } : {}),
    });
    const byTool = new Map(decision.tools.map((t) => [t.tool, t]));
    /**
     * Each template as text and escaped for HTML, cut at the placeholder: by the decision's signature, then format.
     * A tool's signature is made once and kept, so looking it up hashes it once; a key made afresh per call (format +
     * signature, ~200 characters) was hashed again for each of a tool's 14 lookups.
     */
    const templates = new Map<string, Map<string, { text: string[]; markup: string[] }>>();
    /** Per tool, its templates by format (null: its rules are rendered directly). */
    const perTool = new Map<string, Map<string, { text: string[]; markup: string[] }> | null>();
    const clean = !decision.server.includes(PLACEHOLDER) && !decision.serverKey.includes(PLACEHOLDER);
    /** The template of a tool's rule in a format, or undefined when its rule is rendered directly. */
    const template = (toolName: string, format: string) => {
      let byFormat = perTool.get(toolName);
      if (byFormat === undefined) {
        const t = byTool.get(toolName);
        if (!t || !clean || !SIMPLE_NAME.test(toolName)) byFormat = null;
        else {
          const sig = JSON.stringify({ ...t, tool: "" });
          byFormat = templates.get(sig);
          if (byFormat === undefined) {
            byFormat = new Map();
            templates.set(sig, byFormat);
          }
        }
        perTool.set(toolName, byFormat);
      }
      if (byFormat === null) return undefined;
      let tpl = byFormat.get(format);
      if (tpl === undefined) {
        const t = byTool.get(toolName) as ToolDecision;
        const one = { ...decision, tools: [{ ...t, tool: PLACEHOLDER }] };
        const text = ruleForTool(one, PLACEHOLDER, format as PolicyFormat);
        // Escaping maps each character on its own and the placeholder has none to escape, so the escaped template
        // with a simple name put in is the escaped rule: each template is escaped once, not once per tool.
        tpl = { text: text.split(PLACEHOLDER), markup: escapeHtml(text).split(PLACEHOLDER) };
        byFormat.set(format, tpl);
      }
      return tpl;
    };
    return {
      formats: POLICY_FORMATS,
      serverKey: decision.serverKey,
      full: POLICY_FORMATS.map((format) => ({ format, text: renderPolicy(decision, format) })),
      rule: (toolName, format) =>
        template(toolName, format)?.text.join(toolName) ?? ruleForTool(decision, toolName, format as PolicyFormat),
      // A simple name (SIMPLE_NAME) has nothing to escape.
      ruleMarkup: (toolName, format) => {
        const tpl = template(toolName, format);
        return raw(
          tpl ? tpl.markup.join(toolName) : escapeHtml(ruleForTool(decision, toolName, format as PolicyFormat)),
        );
      },
      decision: (toolName) => byTool.get(toolName),
    };
  };
}
