import type { Classification } from "../core/types.js";
import { renderAtom } from "../history/atom.js";
import { renderToolDiff } from "../history/diff.js";
import type { ChangeEvent } from "../history/events.js";
import { installSnippet, shortServerName } from "../policy/index.js";
import type { ToolRow } from "../store/queries.js";
import type { ServerBundle, VersionRow } from "../store/site.js";
import { type Html, html } from "./html.js";
import {
  categoryBadge,
  clip,
  copyBlock,
  flagBadge,
  href,
  layout,
  riskBadge,
  type SiteCtx,
  safeUrl,
  table,
} from "./layout.js";
import type { ServerPolicy } from "./policy-view.js";
import { paramRows } from "./schema-table.js";
import {
  actionWords,
  annotationRows,
  CATEGORIES,
  canModify,
  flagWords,
  isPoisoning,
  plural,
  riskLabel,
  toolFaq,
  whatItDoes,
  whyPolicy,
} from "./words.js";

/** What global pages (browse, search, home, sitemap) need of one tool; kept small: there are 500k of them. */
export interface ToolSummary {
  /** name */
  n: string;
  /** slug */
  s: string;
  /** category, risk (null when unclassified) */
  c: string | null;
  r: string | null;
  /** short description */
  d: string;
  /** when the current definition was first seen */
  ch: string;
  title?: string;
  /** the classifier's flags, when there are any (poisoning indicators, contradictions, shadowing) */
  f?: string[];
}

/** What global pages need of one server (its tools' summaries are kept apart, see SiteState). */
export interface ServerMeta {
  id: number;
  slug: string;
  name: string;
  title: string | null;
  d: string;
  toolCount: number;
  modify: number;
  byCategory: Record<string, number>;
  byRisk: Record<string, number>;
  sources: string[];
  outcome: string | null;
  tokens: number;
  /** tools with a poisoning or shadowing flag */
  flagged?: number;
  /** why the last probe did not list the server, when it did not */
  err?: string;
}

/** One output file: its path under the site root and its content. */
export interface SiteFile {
  path: string;
  content: string;
}

export const serverPath = (slug: string) => `/servers/${slug}/`;
export const toolPath = (serverSlug: string, toolSlug: string) => `/tools/${serverSlug}/${toolSlug}/`;

const RELATED = 12;
const JSON_INDENT = 0;
const toJson = (v: unknown) => `${JSON.stringify(v, null, JSON_INDENT)}\n`;
const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : "never");

interface InstallInfo {
  lines: { kind: string; text: string }[];
  env: { name: string; required: boolean; secret: boolean; description: string }[];
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/** How to run a server, from its packages and remotes as the registries list them (the client config: installSnippet). */
export function installInfo(packages: unknown[], remotes: unknown[]): InstallInfo {
  const lines: InstallInfo["lines"] = [];
  const env: InstallInfo["env"] = [];
  for (const p of packages.filter(isObj)) {
    const type = String(p.registryType ?? "").toLowerCase();
    const id = String(p.identifier ?? "");
    if (!id) continue;
    const ver = typeof p.version === "string" && p.version ? p.version : undefined;
    const envVars = Array.isArray(p.environmentVariables) ? p.environmentVariables.filter(isObj) : [];
    for (const e of envVars) {
      if (typeof e.name !== "string") continue;
      env.push({
        name: e.name,
        required: !!e.isRequired,
        secret: !!e.isSecret,
        description: typeof e.description === "string" ? e.description : "",
      });
    }
    const envNames = envVars.map((e) => e.name).filter((n): n is string => typeof n === "string");
    let cmd: string[] | undefined;
    if (type === "npm") cmd = ["npx", "-y", ver ? `${id}@${ver}` : id];
    else if (type === "pypi") cmd = ["uvx", ver ? `${id}==${ver}` : id];
    else if (type === "oci") cmd = ["docker", "run", "-i", "--rm", ...envNames.flatMap((k) => ["-e", k]), id];
    else if (type === "nuget") cmd = ["dnx", ver ? `${id}@${ver}` : id, "--yes"];
    if (cmd) lines.push({ kind: type, text: cmd.join(" ") });
    else lines.push({ kind: type || "package", text: id });
  }
  for (const r of remotes.filter(isObj)) {
    if (typeof r.url !== "string") continue;
    lines.push({ kind: String(r.type ?? "remote"), text: r.url });
  }
  return { lines, env };
}

function classificationJson(c: Classification | null) {
  return c
    ? {
        category: c.category,
        risk: c.risk,
        access: c.access,
        destructive: c.destructive,
        financial: c.financial,
        confidence: c.confidence,
        signals: c.signals,
        flags: c.flags,
        source: c.source,
        classifierVersion: c.classifierVersion,
      }
    : null;
}

/** What changed between two stored definitions, in words. */
function changedFields(prev: VersionRow | undefined, cur: VersionRow): string {
  if (!prev) return "first seen";
  const fields = ["title", "description", "inputSchema", "outputSchema", "annotations"].filter(
    (k) => JSON.stringify(prev.raw[k]) !== JSON.stringify(cur.raw[k]),
  );
  return fields.length ? `changed: ${fields.join(", ")}` : "changed: other fields";
}

/** How many change events a server's feed carries (newest first). */
export const FEED_ENTRIES = 100;

/** Each stored definition with its dates and the readable diff from the one before (as src/history toolHistory). */
function versionsWithDiff(history: VersionRow[]): { v: VersionRow; diff: string[] }[] {
  return history.map((v, i) => {
    const prev = history[i - 1];
    return { v, diff: prev ? renderToolDiff(prev.raw, v.raw) : [] };
  });
}

/** A diff line's class: added and removed lines are marked so they are told apart without colour alone. */
const diffClass = (l: string) => (/^\s*\+/.test(l) ? "add" : /^\s*-/.test(l) ? "del" : "ctx");

function diffBlock(diff: string[]): Html {
  return html`<pre class="diff" tabindex="0"><code>${diff.map((l, i) => {
    const k = diffClass(l);
    const line = k === "add" ? html`<ins>${l}</ins>` : k === "del" ? html`<del>${l}</del>` : html`${l}`;
    return html`${i ? "\n" : ""}${line}`;
  })}</code></pre>`;
}

function changeJson(c: ChangeEvent) {
  return {
    id: c.id,
    at: c.at,
    kind: c.kind,
    severity: c.severity,
    reason: c.reason,
    fromHash: c.fromHash,
    toHash: c.toHash,
  };
}

/** Recorded changes shown inline on a server page (all of them are in its feed). */
const RECENT_CHANGES = 8;

/** A share of a 200k-token context window, in words. */
export function contextShare(tokens: number): string {
  const pct = (tokens / 200_000) * 100;
  return pct < 0.1 ? "under 0.1%" : `${pct < 10 ? pct.toFixed(1) : Math.round(pct)}%`;
}

/** Where each client reads the policy format, and the file name a download gets. */
export const FORMAT_FILES: Record<string, { file: string; where: string }> = {
  "policy.json": {
    file: "policy.json",
    where:
      "mcp-census's own format, for a gateway that reads it (not an Intercept policy: use the intercept file there)",
  },
  intercept: { file: "intercept-policy.yaml", where: "the policy file you pass to PolicyLayer Intercept" },
  "claude-code": {
    file: "settings.json",
    where: "merge into ~/.claude/settings.json (or .claude/settings.json in a project)",
  },
  cursor: {
    file: "permissions.json",
    where:
      "~/.cursor/permissions.json: Cursor can only pre-approve tools, not block them (mcp-census policy --format cursor-hook writes a hook that can), and the file replaces your whole allowlist",
  },
  codex: {
    file: "config.toml",
    where: "~/.codex/config.toml: a new server table, or the lines its header says to merge",
  },
  gemini: {
    file: "settings.json",
    where: "merge into ~/.gemini/settings.json (or .gemini/settings.json in a project)",
  },
  "gemini-policy": {
    file: "mcp-census-policy.toml",
    where: "save in ~/.gemini/policies/ (Gemini CLI's policy engine; it keeps asking under --approval-mode yolo)",
  },
  vscode: {
    file: "settings.json",
    where: "merge into VS Code's user settings.json (the setting is keyed by bare tool name, for all servers)",
  },
};

/** What name the policies give the server, and how to get them under another one. */
function nameNote(slug: string, name: string, what: string, withConfig: boolean): Html {
  return html`<p class="policy-name">${what} name the server <code>${name}</code>${withConfig ? ", as the server's client configuration (How to install) does" : ""}. Clients apply a policy only under the name the server has in their config: if yours knows it by another name, use <code>mcp-census policy ${slug} --as &lt;your-name&gt;</code>.</p>`;
}

function downloads(policy: ServerPolicy): Html {
  return html`<h3>Download</h3><ul class="downloads">${policy.full.map((p, i) => {
    const f = FORMAT_FILES[p.format];
    return html`<li><button type="button" class="download" data-download="policy-${i}" data-filename="${f?.file ?? `${p.format}.txt`}">Download ${f?.file ?? p.format}</button> for ${p.format}${f ? html`: ${f.where}` : ""}</li>`;
  })}</ul>`;
}

const ACTION_CLASSES: { action: string; title: string }[] = [
  { action: "allow", title: "Allowed" },
  { action: "limit", title: "Allowed within a rate limit" },
  { action: "approve", title: "Each call needs a person's approval" },
  { action: "hide", title: "Hidden from the agent" },
  { action: "deny", title: "Denied" },
];

/** The policy as one block per class of rule: which tools it allows, limits, asks about, hides and denies. */
function ruleClasses(ctx: SiteCtx, serverSlug: string, tools: ToolRow[], policy: ServerPolicy): Html {
  const by = new Map<string, ToolRow[]>();
  for (const t of tools) {
    const a = policy.decision(t.name)?.action ?? "deny";
    const l = by.get(a) ?? [];
    if (!l.length) by.set(a, l);
    l.push(t);
  }
  const blocks = ACTION_CLASSES.filter((k) => by.get(k.action)?.length);
  if (!blocks.length)
    return html`<p>No tools are known, so the policy denies everything until the server is listed.</p>`;
  return html`<div class="rule-classes">${blocks.map((k) => {
    const list = by.get(k.action) ?? [];
    return html`<h3>${k.title} (${list.length})</h3><p>${list.map((t, i) => html`${i ? ", " : ""}<a href="${href(ctx, toolPath(serverSlug, t.slug))}"><code>${t.name}</code></a>`)}</p>`;
  })}<p>Any tool the server adds later is denied until the catalog has classified it.</p></div>`;
}

/** A per-tool rule, said in a sentence, so the snippet beside it reads as the decision it is. */
function ruleExplained(name: string, action: string): string {
  switch (action) {
    case "allow":
      return `${name} only reads, so it stays allowed. Everything the policy does not name is denied unless you say otherwise.`;
    case "limit":
      return `${name} can change things, so it is allowed within a rate limit. Clients that cannot rate-limit ask for approval instead.`;
    case "approve":
      return `${name} is risky enough that a person should approve each call.`;
    case "hide":
      return `${name} can do damage that cannot be undone, so it is hidden from the agent: it never sees the tool.`;
    default:
      return `${name} is denied: the rule is to ${actionWords(action)}.`;
  }
}

/** The server's latest recorded changes, with what changed and how severe it is. */
function recentChanges(ctx: SiteCtx, serverSlug: string, tools: ToolRow[], changes: ChangeEvent[]): Html {
  const slugOf = new Map(tools.map((t) => [t.name, t.slug]));
  const latest = changes.slice(-RECENT_CHANGES).reverse();
  return table(
    "Latest changes",
    html`<thead><tr><th scope="col">When</th><th scope="col">Tool</th><th scope="col">Severity</th><th scope="col">What changed</th></tr></thead><tbody>${latest.map(
      (x) => {
        const slug = slugOf.get(x.toolName);
        return html`<tr><td>${day(x.at)}</td><td>${slug ? html`<a href="${href(ctx, `${toolPath(serverSlug, slug)}#hist-h`)}">${x.toolName}</a>` : x.toolName}</td><td><span class="badge sev-${x.severity}">${x.severity}</span></td><td>${x.kind.replace(/_/g, " ")}: ${x.reason}</td></tr>`;
      },
    )}</tbody>`,
    "changes",
  );
}

/** What a server page says when its tools could not be listed: the outcome, its reason, and how to list it. */
function notListedBox(name: string, probe: ServerBundle["probe"], env: InstallInfo["env"]): Html {
  const outcome = probe ? probe.outcome.replace(/_/g, " ") : "not probed yet";
  const needs = env.filter((e) => e.required || e.secret).map((e) => e.name);
  const cmd = `mcp-census probe ${name}${needs.map((n) => ` -e ${n}=<value>`).join("")}`;
  return html`<div class="notlisted" role="note"><h2>Not listed</h2>
<p>We could not list this server's tools (outcome: <strong>${outcome}</strong>)${probe?.error ? html`: <span class="err">${clip(probe.error, 300)}</span>` : "."} So there is no tool count, risk or context cost to show, and its recommended policy denies every tool until it is listed.</p>
<p>To list it yourself${needs.length ? html`, with the configuration its registry entry asks for (${needs.join(", ")})` : ""}: <code>${cmd}</code></p></div>`;
}

/** All pages of one server: its own page and one per tool, each with a JSON mirror. */
export function renderServerPages(
  ctx: SiteCtx,
  b: ServerBundle<ChangeEvent>,
  policy: ServerPolicy | undefined,
): { files: SiteFile[]; meta: ServerMeta; tools: ToolSummary[] } {
  const { server, tools, probe, sources } = b;
  const files: SiteFile[] = [];
  const sPath = serverPath(server.slug);
  const display = server.title || server.name;
  const byCategory: Record<string, number> = {};
  for (const t of tools) {
    const k = t.classification?.category ?? "Unclassified";
    byCategory[k] = (byCategory[k] ?? 0) + 1;
  }
  const modify = tools.filter((t) => canModify(t.classification)).length;
  const flagged = tools.filter((t) => t.classification?.flags.some(isPoisoning)).length;
  // A server is "listed" when its last probe listed it (a server that lists zero tools is listed, with none).
  const listed = probe?.outcome === "ok";
  // Estimated tokens the tool definitions take in every request: characters of their JSON ÷ 4.
  const tokens = Math.ceil(b.toolsJsonChars / 4);
  let heaviest: { name: string; tokens: number } | undefined;
  for (const t of tools) {
    // The stored definition's length when the reader has it: reading and parsing every definition to measure it
    // again was ~5 % of a render worker's time (a query, a parse and a stringify per tool).
    const n = Math.ceil((t.rawChars ?? JSON.stringify(t.raw).length) / 4);
    if (!heaviest || n > heaviest.tokens) heaviest = { name: t.name, tokens: n };
  }
  const install = installInfo(server.packages, server.remotes);
  // The name the policies on this page use (the policy engine's default), so the config and the policies match.
  const clientName = policy?.serverKey ?? shortServerName(server.name);
  const clientConfig = installSnippet(server, clientName, "json");
  const sourceIds = [...new Set(sources.map((s) => s.sourceId))];
  const toolSummaries: ToolSummary[] = tools.map((t) => {
    const vs = b.versions.get(t.name);
    const cur = vs?.find((v) => v.hash === t.hash);
    return {
      n: t.name,
      s: t.slug,
      c: t.classification?.category ?? null,
      r: t.classification?.risk ?? null,
      d: clip(t.description, 140),
      ch: cur?.firstSeen ?? t.firstSeen,
      ...(t.title ? { title: t.title } : {}),
      ...(t.classification?.flags.length ? { f: t.classification.flags } : {}),
    };
  });
  const byRisk: Record<string, number> = {};
  for (const t of tools) {
    const k = t.classification?.risk ?? "unclassified";
    byRisk[k] = (byRisk[k] ?? 0) + 1;
  }
  const meta: ServerMeta = {
    id: server.id,
    slug: server.slug,
    name: server.name,
    title: server.title,
    d: clip(server.description, 200),
    toolCount: tools.length,
    modify,
    byCategory,
    byRisk,
    sources: sourceIds,
    outcome: probe?.outcome ?? null,
    tokens,
    ...(flagged ? { flagged } : {}),
    ...(listed
      ? {}
      : { err: clip(probe?.error ?? (probe ? probe.outcome.replace(/_/g, " ") : "not probed yet"), 200) }),
  };
  const countLine = listed
    ? `${plural(tools.length, "tool")}. ${modify.toLocaleString("en-US")} can modify or destroy data without limits${flagged ? `; ${plural(flagged, "tool")} ${flagged === 1 ? "carries" : "carry"} poisoning flags` : ""}`
    : "Not listed: we could not list its tools, so we make no claim about them";
  const probeJson = probe
    ? {
        outcome: probe.outcome,
        // The day, as the page shows it: a full timestamp would rewrite every page of every server on each crawl.
        on: day(probe.startedAt),
        transport: probe.transport,
        protocolVersion: probe.protocolVersion,
        serverInfo: probe.serverInfo,
        error: probe.error,
      }
    : null;
  const sourcesHtml = sources.length
    ? html`<ul>${sources.map(
        (s) =>
          html`<li><a href="${href(ctx, `/browse/registry/${s.sourceId}/`)}">${s.sourceId}</a> as <code>${s.sourceKey}</code>${
            s.status !== "active" ? html` (${s.status})` : ""
          }, since ${day(s.firstSeen)}</li>`,
      )}</ul>`
    : html`<p>No registry lists it at the moment.</p>`;
  const probeHtml = probe
    ? html`<p>Last probed ${day(probe.startedAt)} over <strong>${probe.transport}</strong>: <strong>${probe.outcome.replace(/_/g, " ")}</strong>${
        probe.protocolVersion ? html`, protocol ${probe.protocolVersion}` : ""
      }.${probe.error ? html` Error: <span class="err">${clip(probe.error, 300)}</span>` : ""}</p>`
    : html`<p>Not probed yet.</p>`;

  // Server page
  const groups = [...CATEGORIES, "Unclassified"]
    .map((cat) => ({ cat, list: tools.filter((t) => (t.classification?.category ?? "Unclassified") === cat) }))
    .filter((g) => g.list.length);
  const serverBody = html`<article class="server">
<h1>${display}</h1>
${server.title ? html`<p class="sub"><code>${server.name}</code></p>` : ""}
${server.description ? html`<p class="desc">${server.description}</p>` : ""}
<p class="lead">${countLine}.${server.status !== "active" ? html` Status: <strong>${server.status}</strong>.` : ""}</p>
${listed ? "" : notListedBox(server.name, probe, install.env)}
<ul class="facts">
${server.version ? html`<li>Version ${server.version}</li>` : ""}
${safeUrl(server.repositoryUrl) ? html`<li><a href="${safeUrl(server.repositoryUrl)}" rel="nofollow noopener">Repository</a></li>` : server.repositoryUrl ? html`<li>Repository: ${server.repositoryUrl}</li>` : ""}
${safeUrl(server.websiteUrl) ? html`<li><a href="${safeUrl(server.websiteUrl)}" rel="nofollow noopener">Website</a></li>` : ""}
<li>First seen ${day(server.firstSeen)}</li>
</ul>
<section aria-labelledby="probe-h"><h2 id="probe-h">Probe status</h2>${probeHtml}</section>
<section aria-labelledby="install-h"><h2 id="install-h">How to install</h2>
${install.lines.length ? html`<ul>${install.lines.map((l) => html`<li>${l.kind}: <code>${l.text}</code></li>`)}</ul>` : html`<p>No package or remote endpoint is listed.</p>`}
${install.env.length ? table("Environment variables", html`<thead><tr><th scope="col">Name</th><th scope="col">Required</th><th scope="col">Secret</th><th scope="col">Description</th></tr></thead><tbody>${install.env.map((e) => html`<tr><td><code>${e.name}</code></td><td>${e.required ? "yes" : "no"}</td><td>${e.secret ? "yes" : "no"}</td><td>${e.description}</td></tr>`)}</tbody>`) : ""}
${clientConfig ? html`${copyBlock("client-config", "Client configuration (mcpServers)", clientConfig)}<p>Named <code>${clientName}</code> here and in every policy on this page. If your client knows the server by another name, policies must use that name: <code>mcp-census policy ${server.slug} --as &lt;your-name&gt;</code>.</p>` : ""}
</section>
${
  listed
    ? html`<section aria-labelledby="tokens-h"><h2 id="tokens-h">Context cost</h2>
<p>Its tool definitions take about <strong>${tokens.toLocaleString("en-US")} tokens</strong> of context on every request — ${contextShare(tokens)} of a 200,000-token context window${
        heaviest && tools.length > 1
          ? html`; the heaviest is <a href="${href(ctx, toolPath(server.slug, tools.find((t) => t.name === heaviest?.name)?.slug ?? ""))}">${heaviest.name}</a> at about ${heaviest.tokens.toLocaleString("en-US")} tokens`
          : ""
      } (an estimate: characters of their JSON divided by 4).</p></section>`
    : ""
}
<section aria-labelledby="tools-h"><h2 id="tools-h">Tools by category</h2>
${
  listed
    ? html`<p>${groups.length ? groups.map((g, i) => html`${i ? ", " : ""}${g.list.length} ${g.cat}`) : "It lists no tools."}</p>`
    : html`<p>No tools are known: the server has not been listed.</p>`
}
${groups.map((g) =>
  table(
    `${g.cat} (${g.list.length})`,
    html`<thead><tr><th scope="col">Tool</th><th scope="col">Risk</th><th scope="col">Description</th></tr></thead><tbody>
${g.list.map((t) => html`<tr><td><a href="${href(ctx, toolPath(server.slug, t.slug))}">${t.name}</a></td><td>${riskBadge(t.classification?.risk)}${flagBadge(t.classification?.flags)}</td><td>${clip(t.description, 160)}</td></tr>`)}
</tbody>`,
    "tools",
  ),
)}
</section>
<section aria-labelledby="policy-h"><h2 id="policy-h">Recommended policy</h2>
${policy ? nameNote(server.slug, clientName, "These policies", !!clientConfig) : ""}
${policy ? ruleClasses(ctx, server.slug, tools, policy) : ""}
${policy ? downloads(policy) : ""}
${policy ? policy.full.map((p, i) => copyBlock(`policy-${i}`, p.format, p.text, i === 0 ? "open" : "closed")) : html`<p>Policies are not available in this build.</p>`}
</section>
<section aria-labelledby="listed-h"><h2 id="listed-h">Where it is listed</h2>${sourcesHtml}</section>
<section aria-labelledby="changes-h"><h2 id="changes-h">Changes</h2>
<p>${b.changes.length ? `${plural(b.changes.length, "recorded change")} of its tools${b.changes.length > RECENT_CHANGES ? `; the latest ${RECENT_CHANGES}:` : ":"}` : "No recorded changes of its tools yet."}</p>
${b.changes.length ? recentChanges(ctx, server.slug, tools, b.changes) : ""}
<p><a href="${href(ctx, `${sPath}feed.xml`)}" type="application/atom+xml">Atom feed of this server's changes</a></p></section>
</article>`;
  files.push({
    path: `${sPath}index.html`,
    content: layout(
      ctx,
      {
        title: display,
        description: `${countLine}. ${server.description ?? ""}`,
        path: sPath,
        json: true,
        feed: { title: `Changes of ${display}`, path: `${sPath}feed.xml` },
        scripts: ["copy.js"],
        crumbs: [{ label: "Home", path: "/" }, { label: "Servers", path: "/servers/" }, { label: display }],
      },
      serverBody,
    ),
  });
  files.push({
    path: `${sPath}index.json`,
    content: toJson({
      server: {
        slug: server.slug,
        name: server.name,
        title: server.title,
        description: server.description,
        version: server.version,
        repositoryUrl: server.repositoryUrl,
        websiteUrl: server.websiteUrl,
        status: server.status,
        firstSeen: server.firstSeen,
        packages: server.packages,
        remotes: server.remotes,
      },
      listed,
      counts: { tools: tools.length, canModify: modify, flagged, byCategory },
      tokenEstimate: tokens,
      probe: probeJson,
      install: install.lines,
      environment: install.env,
      tools: tools.map((t) => ({
        name: t.name,
        path: toolPath(server.slug, t.slug),
        category: t.classification?.category ?? null,
        risk: t.classification?.risk ?? null,
        flags: t.classification?.flags ?? [],
      })),
      policy: policy ? Object.fromEntries(policy.full.map((p) => [p.format, p.text])) : null,
      sources,
    }),
  });

  // Tool pages
  const rulesNameNote = nameNote(server.slug, clientName, "These rules", !!clientConfig);
  const changesOf = new Map<string, ChangeEvent[]>();
  for (const x of b.changes) {
    const l = changesOf.get(x.toolName) ?? [];
    if (!l.length) changesOf.set(x.toolName, l);
    l.push(x);
  }
  const sameCategory = new Map<string, ToolRow[]>();
  for (const t of tools) {
    const k = t.classification?.category ?? "";
    const l = sameCategory.get(k) ?? [];
    if (!l.length) sameCategory.set(k, l);
    l.push(t);
  }
  for (const t of tools) {
    const c = t.classification;
    const tPath = toolPath(server.slug, t.slug);
    const decision = policy?.decision(t.name);
    const params = paramRows(t.inputSchema);
    const ann = annotationRows(t.annotations, c);
    const poison = (c?.flags ?? []).filter(isPoisoning);
    const otherFlags = (c?.flags ?? []).filter((f) => !isPoisoning(f));
    const history = versionsWithDiff(b.versions.get(t.name) ?? []);
    const toolChanges = changesOf.get(t.name) ?? [];
    // Same category first, then the rest, by name (tools are already sorted by name).
    const same = sameCategory.get(c?.category ?? "") ?? [];
    const related: ToolRow[] = [];
    for (const o of same) if (o !== t && related.length < RELATED) related.push(o);
    for (const o of tools) {
      if (related.length >= RELATED) break;
      if ((o.classification?.category ?? "") !== (c?.category ?? "")) related.push(o);
    }
    const rules = policy
      ? policy.formats.map((f) => ({ format: f, text: policy.rule(t.name, f), markup: policy.ruleMarkup(t.name, f) }))
      : [];
    const facts = { name: t.name, params };
    const what = whatItDoes(c, facts);
    const why = whyPolicy(c, decision);
    const faq = toolFaq(c, facts, display, decision, what);
    const title = `${t.name} (${display})`;
    const body = html`<article class="tool">
<h1><span class="tool-name">${t.name}</span></h1>
<p class="sub">${t.title ? html`${t.title} · ` : ""}a tool of <a href="${href(ctx, sPath)}">${display}</a></p>
<p class="badges">${riskBadge(c?.risk)} ${categoryBadge(c?.category)}${flagBadge(c?.flags)}${c ? html` <span class="conf">confidence ${Math.round(c.confidence * 100)}%, by ${c.source}</span>` : ""}</p>
${poison.length ? html`<div class="warn" role="note"><h2>Poisoning flags</h2><ul>${poison.map((f) => html`<li>${flagWords(f)}</li>`)}</ul></div>` : ""}
<section aria-labelledby="desc-h"><h2 id="desc-h">Description</h2>
${t.description ? html`<p class="desc">${t.description}</p>` : html`<p>The author gave no description.</p>`}</section>
<section aria-labelledby="what-h"><h2 id="what-h">What it does</h2><p>${what}</p></section>
<section aria-labelledby="why-h"><h2 id="why-h">Why it needs a policy</h2><p><strong>${riskLabel(c)}.</strong> ${why}</p></section>
${c?.signals.length ? html`<section aria-labelledby="ev-h"><h2 id="ev-h">Evidence</h2><ul>${c.signals.map((s) => html`<li>${s}</li>`)}</ul></section>` : ""}
${otherFlags.length ? html`<section aria-labelledby="fl-h"><h2 id="fl-h">Flags</h2><ul>${otherFlags.map((f) => html`<li>${flagWords(f)}</li>`)}</ul></section>` : ""}
<section aria-labelledby="params-h"><h2 id="params-h">Parameters</h2>
${
  params.length
    ? table(
        "Input parameters",
        html`<thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead><tbody>
${params.map((p) => html`<tr><td><code>${p.name}</code></td><td>${p.type}</td><td>${p.required ? "required" : "optional"}</td><td>${p.description}${p.enumValues.length ? html`<br>One of: ${p.enumValues.map((e, i) => html`${i ? ", " : ""}<code>${e}</code>`)}` : ""}${p.defaultValue !== undefined ? html`<br>Default: <code>${p.defaultValue}</code>` : ""}</td></tr>`)}
</tbody>`,
        "params",
      )
    : html`<p>It takes no parameters.</p>`
}</section>
<section aria-labelledby="ann-h"><h2 id="ann-h">Annotations</h2>
${table(
  "Declared by the author, beside our classification",
  html`<thead><tr><th scope="col">Hint</th><th scope="col">Declared</th><th scope="col">Our classification</th></tr></thead><tbody>
${ann.map((a) => html`<tr${a.contradicts ? html` class="contradiction"` : ""}><td><code>${a.hint}</code></td><td>${a.declared}</td><td>${a.ours}${a.contradicts ? html` <strong>(contradicts the declaration)</strong>` : ""}</td></tr>`)}
</tbody>`,
  "ann",
)}</section>
<section aria-labelledby="rule-h"><h2 id="rule-h">Recommended rule</h2>
${decision ? html`<p>${ruleExplained(t.name, decision.action)}</p>` : ""}
${rules.length ? rulesNameNote : ""}
${rules.length ? rules.map((r, i) => copyBlock(`rule-${i}`, r.format, r.markup, i === 0 ? "open" : "closed")) : html`<p>Policies are not available in this build.</p>`}
<p><a href="${href(ctx, sPath)}#policy-h">The server's full policy</a></p></section>
${related.length ? html`<section aria-labelledby="rel-h"><h2 id="rel-h">Related tools of this server</h2><ul class="related">${related.map((o) => html`<li><a href="${href(ctx, toolPath(server.slug, o.slug))}">${o.name}</a> ${riskBadge(o.classification?.risk)}</li>`)}</ul>${tools.length - 1 > related.length ? html`<p><a href="${href(ctx, sPath)}#tools-h">All ${tools.length} tools</a></p>` : ""}</section>` : ""}
<section aria-labelledby="hist-h"><h2 id="hist-h">History of its definition</h2>
${history.length ? html`<ol class="history">${history.map(({ v, diff }, i) => html`<li><code>${v.hash.slice(0, 12)}</code>: ${changedFields(history[i - 1]?.v, v)}, ${v.hash === t.hash ? `first seen ${day(v.firstSeen)} (current)` : `seen ${day(v.firstSeen)} to ${day(v.lastSeen)}`}${diff.length ? diffBlock(diff) : ""}</li>`)}</ol>` : html`<p>No stored versions.</p>`}
${toolChanges.length ? table("Recorded changes", html`<thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Severity</th><th scope="col">Reason</th></tr></thead><tbody>${toolChanges.map((x) => html`<tr><td>${day(x.at)}</td><td>${x.kind.replace(/_/g, " ")}</td><td><span class="badge sev-${x.severity}">${x.severity}</span></td><td>${x.reason}</td></tr>`)}</tbody>`, "changes") : ""}
<p><a href="${href(ctx, `${sPath}feed.xml`)}" type="application/atom+xml">Atom feed of this server's changes</a></p></section>
<section aria-labelledby="faq-h"><h2 id="faq-h">Questions people ask</h2><dl class="faq">${faq.map((f) => html`<dt>${f.q}</dt><dd>${f.a}</dd>`)}</dl></section>
<section aria-labelledby="src-h"><h2 id="src-h">Listed in</h2>${sourcesHtml}</section>
<section aria-labelledby="probe2-h"><h2 id="probe2-h">Last probed</h2>${probeHtml}</section>
</article>`;
    files.push({
      path: `${tPath}index.html`,
      content: layout(
        ctx,
        {
          title,
          description: `${riskLabel(c)}${c ? `, ${c.category}` : ""}. ${clip(t.description, 200)}`,
          path: tPath,
          json: true,
          scripts: ["copy.js"],
          crumbs: [{ label: "Home", path: "/" }, { label: display, path: sPath }, { label: t.name }],
        },
        body,
      ),
    });
    files.push({
      path: `${tPath}index.json`,
      content: toJson({
        tool: {
          name: t.name,
          title: t.title,
          description: t.description,
          inputSchema: t.inputSchema,
          outputSchema: t.outputSchema,
          annotations: t.annotations,
          hash: t.hash,
          firstSeen: t.firstSeen,
        },
        server: { slug: server.slug, name: server.name, path: sPath },
        classification: classificationJson(c),
        text: { whatItDoes: what, whyPolicy: why, faq },
        annotations: ann,
        parameters: params,
        policy: rules.length
          ? {
              action: decision?.action ?? null,
              reason: decision?.reason ?? null,
              rules: Object.fromEntries(rules.map((r) => [r.format, r.text])),
            }
          : null,
        related: related.map((o) => ({
          name: o.name,
          path: toolPath(server.slug, o.slug),
          risk: o.classification?.risk ?? null,
        })),
        history: history.map(({ v, diff }) => ({
          hash: v.hash,
          firstSeen: v.firstSeen,
          // The current definition's last-seen moves with every crawl; the pages leave it out (the API has it).
          lastSeen: v.hash === t.hash ? null : v.lastSeen,
          current: v.hash === t.hash,
          diff,
        })),
        changes: toolChanges.map(changeJson),
        sources,
        probe: probeJson,
      }),
    });
  }
  // The server's feed lives in its folder (and goes with it); it links each change to the tool's history.
  const slugOf = new Map(tools.map((t) => [t.name, t.slug]));
  files.push({
    path: `${sPath}feed.xml`,
    content: renderAtom(b.changes.slice(-FEED_ENTRIES).reverse(), {
      title: `mcp-census: changes of ${display}`,
      since: server.firstSeen,
      selfUrl: `${ctx.baseUrl}${sPath}feed.xml`,
      alternateUrl: `${ctx.baseUrl}${sPath}`,
      linkFor: (x) => {
        const slug = slugOf.get(x.toolName);
        return slug ? `${ctx.baseUrl}${toolPath(server.slug, slug)}#hist-h` : `${ctx.baseUrl}${sPath}`;
      },
    }),
  });
  return { files, meta, tools: toolSummaries };
}

export type { Html };
