import { type Html, html, raw } from "./html.js";
import { clip, escapeHtml, href, layout, riskBadge, type SiteCtx } from "./layout.js";
import { type ServerSummary, type SiteFile, serverPath, type ToolSummary, toolPath } from "./server-pages.js";
import { CATEGORIES, RISKS } from "./words.js";

/** Rows per browse page: small enough to read, few enough files at 500k tools. */
export const PAGE_SIZE = 250;
const SITEMAP_URLS = 45_000;

const toJson = (v: unknown) => `${JSON.stringify(v)}\n`;
const lower = (s: string) => s.toLowerCase();

interface ToolRef {
  server: ServerSummary;
  tool: ToolSummary;
}

function pager(ctx: SiteCtx, basePath: string, page: number, pages: number): Html {
  if (pages <= 1) return html``;
  const p = (n: number) => href(ctx, n === 1 ? basePath : `${basePath}page/${n}/`);
  return html`<nav class="pager" aria-label="Pages">${page > 1 ? html`<a href="${p(page - 1)}" rel="prev">Previous</a>` : ""}<span>Page ${page} of ${pages}</span>${
    page < pages ? html`<a href="${p(page + 1)}" rel="next">Next</a>` : ""
  }</nav>`;
}

const pagePath = (basePath: string, n: number) => (n === 1 ? basePath : `${basePath}page/${n}/`);

function* paged<T>(
  ctx: SiteCtx,
  basePath: string,
  title: string,
  intro: string,
  items: T[],
  head: Html,
  row: (x: T) => Html,
  json: (x: T) => unknown,
  crumbs: { label: string; path?: string }[],
): Generator<SiteFile> {
  const pages = Math.max(1, Math.ceil(items.length / PAGE_SIZE));
  for (let n = 1; n <= pages; n++) {
    const slice = items.slice((n - 1) * PAGE_SIZE, n * PAGE_SIZE);
    const path = pagePath(basePath, n);
    const body = html`<h1>${title}</h1><p>${intro}</p>${pager(ctx, basePath, n, pages)}
<table><caption>${title}${pages > 1 ? `, page ${n} of ${pages}` : ""}</caption><thead>${head}</thead><tbody>${slice.map(row)}</tbody></table>
${pager(ctx, basePath, n, pages)}`;
    yield {
      path: `${path}index.html`,
      content: layout(ctx, { title: n > 1 ? `${title} (page ${n})` : title, path, json: true, crumbs }, body),
    };
    yield {
      path: `${path}index.json`,
      content: toJson({ title, page: n, pages, total: items.length, items: slice.map(json) }),
    };
  }
}

const toolHead = html`<tr><th scope="col">Tool</th><th scope="col">Server</th><th scope="col">Category</th><th scope="col">Risk</th><th scope="col">Description</th></tr>`;
const toolRow = (ctx: SiteCtx) => (x: ToolRef) =>
  html`<tr><td><a href="${href(ctx, toolPath(x.server.slug, x.tool.s))}">${x.tool.n}</a></td><td><a href="${href(ctx, serverPath(x.server.slug))}">${x.server.title || x.server.name}</a></td><td>${x.tool.c ?? "—"}</td><td>${riskBadge(x.tool.r)}</td><td>${x.tool.d}</td></tr>`;
const toolJson = (x: ToolRef) => ({
  name: x.tool.n,
  server: x.server.name,
  path: toolPath(x.server.slug, x.tool.s),
  category: x.tool.c,
  risk: x.tool.r,
  changed: x.tool.ch,
});
const serverHead = html`<tr><th scope="col">Server</th><th scope="col">Tools</th><th scope="col">Can modify or destroy data</th><th scope="col">Last probe</th><th scope="col">Description</th></tr>`;
const serverRow = (ctx: SiteCtx) => (s: ServerSummary) =>
  html`<tr><td><a href="${href(ctx, serverPath(s.slug))}">${s.title || s.name}</a></td><td>${s.tools.length}</td><td>${s.modify}</td><td>${s.outcome?.replace(/_/g, " ") ?? "not probed"}</td><td>${s.d}</td></tr>`;
const serverJson = (s: ServerSummary) => ({
  name: s.name,
  path: serverPath(s.slug),
  tools: s.tools.length,
  canModify: s.modify,
  probe: s.outcome,
});

/** The catalog's make-up as inline SVG bars (no script), with the numbers also in text. */
export function barChart(id: string, title: string, rows: { label: string; n: number; cls: string }[]): Html {
  const max = Math.max(1, ...rows.map((r) => r.n));
  const bar = 24;
  const gap = 8;
  const labelW = 120;
  const width = 640;
  const h = rows.length * (bar + gap) + gap;
  const fill: Record<string, string> = {
    low: "#1a7f37",
    medium: "#8a5a00",
    high: "#bc4c00",
    critical: "#a40e26",
    unclassified: "#57606a",
    cat: "#0550ae",
  };
  return html`<figure><svg class="chart" role="img" aria-labelledby="${id}-t ${id}-d" viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" xmlns="http://www.w3.org/2000/svg">
<title id="${id}-t">${title}</title><desc id="${id}-d">${rows.map((r) => `${r.label}: ${r.n}`).join(", ")}</desc>
${rows.map((r, i) => {
  const y = gap + i * (bar + gap);
  const w = Math.max(r.n ? 2 : 0, Math.round(((width - labelW - 90) * r.n) / max));
  return html`<text x="0" y="${y + 17}" font-size="14" fill="#1f2328">${r.label}</text><rect x="${labelW}" y="${y}" width="${w}" height="${bar}" fill="${fill[r.cls] ?? "#0550ae"}"></rect><text x="${labelW + w + 6}" y="${y + 17}" font-size="14" fill="#1f2328">${r.n.toLocaleString("en-US")}</text>`;
})}
</svg><figcaption>${title}</figcaption></figure>`;
}

/** Every page that depends on the whole catalog: home, lists, browse, search page, sitemaps, llms.txt, robots. */
export function* globalFiles(ctx: SiteCtx, servers: ServerSummary[]): Generator<SiteFile> {
  const refs: ToolRef[] = [];
  for (const server of servers) for (const tool of server.tools) refs.push({ server, tool });
  const byCat = new Map<string, ToolRef[]>();
  const byRisk = new Map<string, ToolRef[]>();
  for (const r of refs) {
    const c = r.tool.c ?? "Unclassified";
    const k = r.tool.r ?? "unclassified";
    (byCat.get(c) ?? byCat.set(c, []).get(c)!).push(r);
    (byRisk.get(k) ?? byRisk.set(k, []).get(k)!).push(r);
  }
  const registries = new Map<string, ServerSummary[]>();
  for (const s of servers)
    for (const src of s.sources) (registries.get(src) ?? registries.set(src, []).get(src)!).push(s);
  const outcomes = new Map<string, number>();
  for (const s of servers) outcomes.set(s.outcome ?? "not probed", (outcomes.get(s.outcome ?? "not probed") ?? 0) + 1);
  const cats = [...CATEGORIES, "Unclassified"].filter((c) => byCat.has(c));
  const risks = [...RISKS, "unclassified"].filter((r) => byRisk.has(r));
  const regs = [...registries.keys()].sort();
  const modifying = refs.filter((r) => r.tool.c && r.tool.c !== "Read").length;
  const htmlPaths: string[] = [];
  const emit = function* (files: Iterable<SiteFile>): Generator<SiteFile> {
    for (const f of files) {
      if (f.path.endsWith("/index.html")) htmlPaths.push(f.path.slice(0, -"index.html".length));
      yield f;
    }
  };

  // Home
  const totals = {
    servers: servers.length,
    tools: refs.length,
    canModify: modifying,
    byCategory: Object.fromEntries(cats.map((c) => [c, byCat.get(c)!.length])),
    byRisk: Object.fromEntries(risks.map((r) => [r, byRisk.get(r)!.length])),
    probeOutcomes: Object.fromEntries([...outcomes].sort()),
    registries: Object.fromEntries(regs.map((r) => [r, registries.get(r)!.length])),
  };
  const home = html`<h1>MCP servers and their tools, by what they can do</h1>
<p class="lead">Every tool of every MCP server we could list, classified by the access it needs and the risk of letting an agent call it, with the policy to paste.</p>
<ul class="totals"><li><strong>${servers.length.toLocaleString("en-US")}</strong> servers</li><li><strong>${refs.length.toLocaleString("en-US")}</strong> tools</li><li><strong>${modifying.toLocaleString("en-US")}</strong> can modify or destroy data</li><li><strong>${regs.length}</strong> registries</li></ul>
<h2>What the catalog is made of</h2>
${barChart(
  "chart-cat",
  "Tools by category",
  cats.map((c) => ({ label: c, n: byCat.get(c)!.length, cls: c === "Unclassified" ? "unclassified" : "cat" })),
)}
${barChart(
  "chart-risk",
  "Tools by risk",
  risks.map((r) => ({ label: r, n: byRisk.get(r)!.length, cls: r })),
)}
<h2>Browse</h2>
<ul>
${cats.map((c) => html`<li><a href="${href(ctx, `/browse/category/${lower(c)}/`)}">${c} tools</a> (${byCat.get(c)!.length})</li>`)}
${risks.map((r) => html`<li><a href="${href(ctx, `/browse/risk/${r}/`)}">${r} risk</a> (${byRisk.get(r)!.length})</li>`)}
<li><a href="${href(ctx, "/servers/")}">All servers</a></li>
<li><a href="${href(ctx, "/browse/recent/")}">Recently changed tools</a></li>
</ul>
<h2>Probe outcomes</h2><ul>${[...outcomes].sort().map(([k, n]) => html`<li>${k.replace(/_/g, " ")}: ${n}</li>`)}</ul>`;
  yield* emit([
    { path: "/index.html", content: layout(ctx, { title: "MCP tool catalog", path: "/", json: true }, home) },
    { path: "/index.json", content: toJson(totals) },
  ]);

  // Servers
  yield* emit(
    paged(
      ctx,
      "/servers/",
      "All servers",
      `${servers.length} servers, by name.`,
      servers,
      serverHead,
      serverRow(ctx),
      serverJson,
      [{ label: "Home", path: "/" }, { label: "Servers" }],
    ),
  );

  // Browse index
  const browse = html`<h1>Browse</h1>
<section aria-labelledby="b-cat"><h2 id="b-cat">By category</h2><ul>${cats.map((c) => html`<li><a href="${href(ctx, `/browse/category/${lower(c)}/`)}">${c}</a> (${byCat.get(c)!.length})</li>`)}</ul></section>
<section aria-labelledby="b-risk"><h2 id="b-risk">By risk</h2><ul>${risks.map((r) => html`<li><a href="${href(ctx, `/browse/risk/${r}/`)}">${r}</a> (${byRisk.get(r)!.length})</li>`)}</ul></section>
<section aria-labelledby="b-reg"><h2 id="b-reg">By registry</h2><ul>${regs.map((r) => html`<li><a href="${href(ctx, `/browse/registry/${r}/`)}">${r}</a> (${registries.get(r)!.length} servers)</li>`)}</ul></section>
<section aria-labelledby="b-rec"><h2 id="b-rec">Recently changed</h2><p><a href="${href(ctx, "/browse/recent/")}">Tools whose definition changed most recently</a></p></section>`;
  yield* emit([
    {
      path: "/browse/index.html",
      content: layout(
        ctx,
        { title: "Browse", path: "/browse/", json: true, crumbs: [{ label: "Home", path: "/" }, { label: "Browse" }] },
        browse,
      ),
    },
    {
      path: "/browse/index.json",
      content: toJson({ categories: totals.byCategory, risks: totals.byRisk, registries: totals.registries }),
    },
  ]);
  const crumbs = (label: string) => [{ label: "Home", path: "/" }, { label: "Browse", path: "/browse/" }, { label }];
  for (const c of cats) {
    const list = byCat.get(c)!;
    yield* emit(
      paged(
        ctx,
        `/browse/category/${lower(c)}/`,
        `${c} tools`,
        `${list.length} tools classified as ${c}, by server.`,
        list,
        toolHead,
        toolRow(ctx),
        toolJson,
        crumbs(c),
      ),
    );
  }
  for (const r of risks) {
    const list = byRisk.get(r)!;
    yield* emit(
      paged(
        ctx,
        `/browse/risk/${r}/`,
        `${r[0]?.toUpperCase()}${r.slice(1)} risk tools`,
        `${list.length} tools, by server.`,
        list,
        toolHead,
        toolRow(ctx),
        toolJson,
        crumbs(r),
      ),
    );
  }
  for (const reg of regs) {
    const list = registries.get(reg)!;
    yield* emit(
      paged(
        ctx,
        `/browse/registry/${reg}/`,
        `Servers listed by ${reg}`,
        `${list.length} servers.`,
        list,
        serverHead,
        serverRow(ctx),
        serverJson,
        crumbs(reg),
      ),
    );
  }
  const recent = [...refs]
    .sort((a, b) => (a.tool.ch < b.tool.ch ? 1 : a.tool.ch > b.tool.ch ? -1 : a.tool.n < b.tool.n ? -1 : 1))
    .slice(0, PAGE_SIZE);
  const recentBody = html`<h1>Recently changed tools</h1><p>The ${recent.length} tools whose current definition appeared most recently (new tools and changed definitions).</p>
<table><caption>Recently changed tools</caption><thead><tr><th scope="col">Since</th><th scope="col">Tool</th><th scope="col">Server</th><th scope="col">Risk</th></tr></thead><tbody>
${recent.map((x) => html`<tr><td>${x.tool.ch.slice(0, 10)}</td><td><a href="${href(ctx, toolPath(x.server.slug, x.tool.s))}">${x.tool.n}</a></td><td><a href="${href(ctx, serverPath(x.server.slug))}">${x.server.title || x.server.name}</a></td><td>${riskBadge(x.tool.r)}</td></tr>`)}
</tbody></table>`;
  yield* emit([
    {
      path: "/browse/recent/index.html",
      content: layout(
        ctx,
        { title: "Recently changed tools", path: "/browse/recent/", json: true, crumbs: crumbs("Recently changed") },
        recentBody,
      ),
    },
    { path: "/browse/recent/index.json", content: toJson({ items: recent.map(toolJson) }) },
  ]);

  // Search page (the results need JS; the page says so and offers browsing without it)
  const search = html`<h1>Search</h1>
<form id="search-form" class="search-form" role="search" action="${href(ctx, "/search/")}" method="get">
<label for="q">Tool or server name</label>
<input id="q" name="q" type="search" autocomplete="off" autofocus>
<button type="submit">Search</button>
</form>
<p id="search-status" class="status" role="status" aria-live="polite"></p>
<div id="search-results"></div>
<noscript><p>Search needs JavaScript. Without it, <a href="${href(ctx, "/browse/")}">browse by category, risk or registry</a> or the <a href="${href(ctx, "/servers/")}">list of servers</a>.</p></noscript>`;
  yield* emit([
    {
      path: "/search/index.html",
      content: layout(
        ctx,
        {
          title: "Search",
          path: "/search/",
          scripts: ["search.js"],
          crumbs: [{ label: "Home", path: "/" }, { label: "Search" }],
        },
        search,
      ),
    },
  ]);
  yield {
    path: "/404.html",
    content: layout(
      ctx,
      { title: "Not found", path: "/404.html" },
      html`<h1>Not found</h1><p>No page here. Try the <a href="${href(ctx, "/search/")}">search</a> or <a href="${href(ctx, "/browse/")}">browse</a>.</p>`,
    ),
  };

  // Sitemaps, robots, llms
  const urls = [...htmlPaths];
  for (const s of servers) {
    urls.push(serverPath(s.slug));
    for (const t of s.tools) urls.push(toolPath(s.slug, t.s));
  }
  const maps = Math.ceil(urls.length / SITEMAP_URLS);
  for (let i = 0; i < maps; i++) {
    const chunk = urls.slice(i * SITEMAP_URLS, (i + 1) * SITEMAP_URLS);
    yield {
      path: `/sitemaps/${i + 1}.xml`,
      content: `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${chunk
        .map((u) => `<url><loc>${escapeHtml(ctx.baseUrl + u)}</loc></url>`)
        .join("\n")}\n</urlset>\n`,
    };
  }
  yield {
    path: "/sitemap.xml",
    content: `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${Array.from(
      { length: maps },
      (_, i) => `<sitemap><loc>${escapeHtml(`${ctx.baseUrl}/sitemaps/${i + 1}.xml`)}</loc></sitemap>`,
    ).join("\n")}\n</sitemapindex>\n`,
  };
  yield { path: "/robots.txt", content: `User-agent: *\nAllow: /\nSitemap: ${ctx.baseUrl}/sitemap.xml\n` };
  const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();
  yield {
    path: "/llms.txt",
    content: `# mcp-census\n\n> A catalog of ${servers.length} MCP servers and their ${refs.length} tools, each classified by the access it needs (Read, Write, Execute, Destructive, Financial) and its risk (low to critical), with a recommended policy.\n\nEvery HTML page has a JSON mirror: append index.json to its URL.\n\n## Sections\n\n- [All servers](${ctx.baseUrl}/servers/): servers by name\n- [Browse](${ctx.baseUrl}/browse/): tools by category, risk and registry\n- [Recently changed](${ctx.baseUrl}/browse/recent/): newest tool definitions\n- [Full catalog as text](${ctx.baseUrl}/llms-full.txt): every server and tool with its classification\n\n## Categories\n\n${cats
      .map((c) => `- [${c} tools](${ctx.baseUrl}/browse/category/${lower(c)}/): ${byCat.get(c)!.length}`)
      .join("\n")}\n`,
  };
  const full: string[] = [`# mcp-census: full catalog\n\n${servers.length} servers, ${refs.length} tools.\n`];
  for (const s of servers) {
    full.push(
      `\n## ${oneLine(s.title || s.name)} (${oneLine(s.name)})\n\n${ctx.baseUrl}${serverPath(s.slug)}\n${s.d ? `\n${oneLine(s.d)}\n` : ""}\n`,
    );
    for (const t of s.tools)
      full.push(`- ${oneLine(t.n)}: ${t.c ?? "unclassified"}, ${t.r ?? "unknown"} risk. ${oneLine(t.d)}\n`);
  }
  yield { path: "/llms-full.txt", content: full.join("") };
}

export { clip, raw };
