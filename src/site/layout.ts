import { isPoisoningFlag } from "../core/vocabulary.js";
import { escapeHtml, type Html, html, raw } from "./html.js";

/** Where the site lives: link paths get `base` (the path of baseUrl) in front; sitemaps use the absolute URL. */
export interface SiteCtx {
  baseUrl: string;
  base: string;
}

/** Builds the link context from a base URL such as https://example.org/census/. */
export function siteCtx(baseUrl: string): SiteCtx {
  const u = new URL(baseUrl);
  const base = u.pathname.replace(/\/+$/, "");
  return { baseUrl: `${u.origin}${base}`, base };
}

/** A root-relative link that respects the base path. */
export const href = (ctx: SiteCtx, path: string): string => `${ctx.base}${path}`;

/** Only http(s) URLs from the catalog become links; anything else (javascript:, data:) stays text. */
export function safeUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** No inline script or style anywhere: everything comes from /assets. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'";

export interface PageOpts {
  title: string;
  description?: string;
  path: string;
  crumbs?: { label: string; path?: string }[];
  scripts?: string[];
  json?: boolean;
  /** An Atom feed of this page's changes, announced in the head. */
  feed?: { title: string; path: string };
}

/** The parts of the page shell that are the same on every page of a site, rendered once per context. */
interface Shell {
  headStart: string;
  headEnd: string;
  header: string;
  footerEnd: string;
  scripts: Map<string, string>;
}
const shells = new WeakMap<SiteCtx, Shell>();

function shellOf(ctx: SiteCtx): Shell {
  let s = shells.get(ctx);
  if (s) return s;
  s = {
    headStart: html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
`.value,
    headEnd: html`<link rel="icon" href="${href(ctx, "/assets/icon.svg")}" type="image/svg+xml">
<link rel="stylesheet" href="${href(ctx, "/assets/site.css")}">
`.value,
    header: html`
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
<a class="brand" href="${href(ctx, "/")}">mcp-census</a>
<nav aria-label="Site"><ul>
<li><a href="${href(ctx, "/servers/")}">Servers</a></li>
<li><a href="${href(ctx, "/browse/")}">Browse</a></li>
<li><a href="${href(ctx, "/browse/recent/")}">Recently changed</a></li>
</ul></nav>
<form class="site-search" role="search" action="${href(ctx, "/search/")}" method="get">
<label for="site-q">Search tools and servers</label>
<input id="site-q" name="q" type="search" autocomplete="off" placeholder="e.g. delete_file">
<button type="submit">Search</button>
</form>
</header>
`.value,
    footerEnd: html`<a href="${href(ctx, "/llms.txt")}">llms.txt</a></p></footer>
</body>
</html>
`.value,
    scripts: new Map(),
  };
  shells.set(ctx, s);
  return s;
}

/** The page shell: landmarks, skip link, site search form, CSP; body is already-escaped Html. */
export function layout(ctx: SiteCtx, o: PageOpts, body: Html): string {
  const sh = shellOf(ctx);
  const crumbs = o.crumbs?.length
    ? html`<nav aria-label="Breadcrumb" class="crumbs"><ol>${o.crumbs.map((c) =>
        c.path
          ? html`<li><a href="${href(ctx, c.path)}">${c.label}</a></li>`
          : html`<li aria-current="page">${c.label}</li>`,
      )}</ol></nav>`.value
    : "";
  let scripts = "";
  for (const name of o.scripts ?? []) {
    let tag = sh.scripts.get(name);
    if (tag === undefined) {
      tag = html`<script src="${href(ctx, `/assets/${name}`)}" defer></script>`.value;
      sh.scripts.set(name, tag);
    }
    scripts += tag;
  }
  const jsonHref = o.json ? escapeHtml(`${href(ctx, o.path)}index.json`) : "";
  return `${sh.headStart}${
    html`<title>${o.title} · mcp-census</title>
${o.description ? html`<meta name="description" content="${o.description.slice(0, 300)}">` : ""}
<link rel="canonical" href="${ctx.baseUrl}${o.path}">
${o.json ? raw(`<link rel="alternate" type="application/json" href="${jsonHref}">`) : ""}
${o.feed ? html`<link rel="alternate" type="application/atom+xml" title="${o.feed.title}" href="${href(ctx, o.feed.path)}">` : ""}
`.value
  }${sh.headEnd}${scripts}${sh.header}${crumbs}
<main id="main" tabindex="-1">
${body.value}
</main>
<footer class="site"><p>mcp-census: a catalog of MCP servers and their tools, classified by access and risk.
${o.json ? `This page's data: <a href="${jsonHref}">index.json</a>.` : ""}
${sh.footerEnd}`;
}

/**
 * A copyable block: the text in a <pre>, a button that copies it (JS in /assets/copy.js). With `fold`, it sits in a
 * <details> (open or closed) so a page with many formats stays short without any script.
 */
export function copyBlock(id: string, label: string, text: string | Html, fold?: "open" | "closed"): Html {
  const inner = html`<div class="copy-head"><h3 id="${id}-h">${label}</h3><button type="button" class="copy" data-copy="${id}" aria-describedby="${id}-h">Copy</button></div>
<pre id="${id}" tabindex="0"><code>${text}</code></pre>`;
  if (!fold) return html`<div class="copyable">${inner}</div>`;
  return html`<details class="copyable"${fold === "open" ? raw(" open") : ""}><summary>${label}</summary>${inner}</details>`;
}

/** A risk badge: words and colour, never colour alone. */
export function riskBadge(risk: string | null | undefined): Html {
  const r = risk ?? "unclassified";
  const label = risk ? `${r[0]?.toUpperCase()}${r.slice(1)} risk` : "Unclassified";
  return html`<span class="badge risk-${r}">${label}</span>`;
}

/** A marker for a tool with poisoning or other flags, shown wherever the tool appears (words, not colour alone). */
export function flagBadge(flags: readonly string[] | null | undefined): Html {
  if (!flags?.length) return raw("");
  const poison = flags.filter(isPoisoningFlag).length;
  const label = poison
    ? `⚑ ${poison === 1 ? "poisoning flag" : `${poison} poisoning flags`}`
    : `⚑ ${flags.length === 1 ? "flag" : `${flags.length} flags`}`;
  return html` <span class="flag" title="${flags.join(", ")}">${label}</span>`;
}

export function categoryBadge(category: string | null | undefined): Html {
  return category ? html`<span class="badge cat">${category}</span>` : raw("");
}

/**
 * A table inside a horizontally scrollable, keyboard-focusable region named after its caption: cells never break a
 * word to fit a narrow screen (the region scrolls instead).
 */
export function table(caption: string, inner: Html, cls?: string): Html {
  return html`<div class="tw" role="region" aria-label="${caption}" tabindex="0"><table${cls ? html` class="${cls}"` : ""}><caption>${caption}</caption>${inner}</table></div>`;
}

/** Escaped text with an ellipsis past n characters. */
export const clip = (s: string | null | undefined, n: number): string =>
  !s ? "" : s.length > n ? `${s.slice(0, n).trimEnd()}…` : s;

export { escapeHtml };
