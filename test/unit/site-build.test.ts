import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as cheerio from "cheerio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decidePolicy, POLICY_FORMATS, renderPolicy, ruleForTool } from "../../src/policy/index.js";
import { fpOf, planPages } from "../../src/site/global-pages.js";
import { escapeHtml, html, jsonForScript, raw } from "../../src/site/html.js";
import { buildSite } from "../../src/site/index.js";
import { policyProvider } from "../../src/site/policy-view.js";
import { buildShard, planShards, serverPostings, shardFor, tokenize } from "../../src/site/search-index.js";
import { ingestProbe, markUnseen, saveClassification } from "../../src/store/catalog.js";
import type { Catalog } from "../../src/store/db.js";
import { findServer, serverTools } from "../../src/store/queries.js";
import { SiteState } from "../../src/store/site-state.js";
import { buildFixtureCatalog, classifyAll, FILE_TOOLS, HOSTILE_DESCRIPTION, probeOk } from "./site-fixture.js";

describe("html escaping", () => {
  it("escapes interpolations by default and never double-escapes nested templates", () => {
    const inner = html`<b>${"<i>"}</b>`;
    const out = html`<p title="${'"><script>'}">${HOSTILE_DESCRIPTION}${inner}${raw("<hr>")}</p>`.value;
    expect(out).toBe('<p title="&quot;&gt;&lt;script&gt;">&lt;img src=x onerror=alert(1)&gt;<b>&lt;i&gt;</b><hr></p>');
  });
  it("makes JSON safe inside a script element", () => {
    const s = jsonForScript({ a: "</script><!--", b: "\u2028" });
    expect(s).not.toMatch(/<|>|\u2028/);
    expect(JSON.parse(s)).toEqual({ a: "</script><!--", b: "\u2028" });
  });
});

describe("search index", () => {
  it("splits names into tokens the way the browser script does", () => {
    expect(tokenize("createPullRequest")).toEqual(["creat", "pull", "request", "createpullrequest"]);
    expect(tokenize("io.github.acme/get_file-contents")).toEqual(["io", "github", "acm", "get", "fil", "content"]);
    expect(tokenize("GitHub Délétions")).toEqual(["git", "hub", "github", "deletion"]);
  });
  it("keeps shards under the size bound by splitting prefixes, and caps very common tokens", () => {
    const dir = mkdtempSync(join(tmpdir(), "site-search-"));
    const state = new SiteState(join(dir, "state.db"));
    try {
      for (let i = 0; i < 50; i++) {
        const meta = {
          id: i + 1,
          slug: `srv-${i}`,
          name: `io.example/srv-${i}`,
          title: null,
          d: "",
          toolCount: 40,
          modify: 0,
          byCategory: {},
          byRisk: {},
          sources: ["official"],
          outcome: "ok",
          tokens: 0,
        };
        const tools = Array.from({ length: 40 }, (_, k) => ({
          n: `get_item_${i}_${k}`,
          s: `get-item-${i}-${k}`,
          c: "Read",
          r: "low",
          d: "",
          ch: "",
        }));
        state.putServer(meta, "fp", tools, serverPostings(meta, tools));
      }
      const keys = planShards(state.tokenSizes(), 4000);
      expect(new Set(keys).size).toBe(keys.length);
      const shards = keys.map((k) => buildShard(state, k, 300));
      const get = shards.find((s) => s.tokens.get);
      expect(get?.capped).toContain("get");
      expect(get?.tokens.get?.length).toBe(300);
      // The cut keeps the best-ranked documents: shortest names first, then by name, server and tool slug.
      const kept = get!.tokens.get!.map((i) => get!.docs[i]!);
      const all = Array.from({ length: 50 }, (_, i) => Array.from({ length: 40 }, (_, k) => `get_item_${i}_${k}`))
        .flat()
        .sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
      expect(kept.map((d) => d[1])).toEqual(all.slice(0, 300));
      for (const sh of shards) {
        const toks = Object.keys(sh.tokens);
        expect(toks.length).toBeGreaterThan(0);
        // Only a shard holding one token may exceed the bound.
        if (JSON.stringify(sh).length > 4000 * 1.5) expect(toks.length).toBe(1);
        for (const t of toks) {
          expect(t.startsWith(sh.key.replace(/-$/, ""))).toBe(true);
          expect(shardFor(t, new Set(keys))).toBe(sh.key);
        }
      }
      // every token's documents are the right ones
      const docs17 = shards.flatMap((sh) => (sh.tokens["17"] ? sh.tokens["17"].map((i) => sh.docs[i]!) : []));
      expect(docs17.length).toBe(40 + 49 + 1); // srv-17's tools, tool 17 of the others, the server itself
      for (const d of docs17) expect(tokenize(`${d[1]} ${d[2]}`)).toContain("17");
    } finally {
      state.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("buildSite on a real catalog", () => {
  let fx: ReturnType<typeof buildFixtureCatalog>;
  let cat: Catalog;
  let out: string;
  const read = (p: string) => readFileSync(join(out, p), "utf8");
  beforeAll(() => {
    fx = buildFixtureCatalog();
    cat = fx.cat;
    out = join(fx.dir, "site");
  });
  afterAll(() => {
    cat.close();
    rmSync(fx.dir, { recursive: true, force: true });
  });

  it("writes a page per server and per tool, with JSON mirrors, feeds and a search index", async () => {
    const r = await buildSite(cat.sqlite, out, { baseUrl: "https://census.example/" });
    expect(r.serversRendered).toBe(2);
    expect(r.pagesWritten).toBeGreaterThan(40);
    const files = findServer(cat.sqlite, "io.github.acme/files")!;
    for (const t of serverTools(cat.sqlite, files.id)) {
      expect(existsSync(join(out, "tools", files.slug, t.slug, "index.html"))).toBe(true);
      expect(existsSync(join(out, "tools", files.slug, t.slug, "index.json"))).toBe(true);
      // A tool's mirror is put together from parts already JSON: it is exactly what JSON.stringify writes of itself.
      const mirror = read(`tools/${files.slug}/${t.slug}/index.json`);
      expect(`${JSON.stringify(JSON.parse(mirror))}\n`, t.name).toBe(mirror);
    }
    for (const p of [
      "index.html",
      "robots.txt",
      "sitemap.xml",
      "sitemaps/start.xml",
      "llms.txt",
      "llms-full.txt",
      "search/index.json",
      "assets/copy.js",
      "browse/recent/index.html",
    ]) {
      expect(existsSync(join(out, p)), p).toBe(true);
    }
    expect(read("sitemap.xml")).toContain("https://census.example/sitemaps/start.xml");
    expect(read("sitemaps/start.xml")).toContain(`https://census.example/tools/${files.slug}/read-file/`);
    expect(read("robots.txt")).toContain("Sitemap: https://census.example/sitemap.xml");
  });

  it("reports a file it cannot write in one line, and writes it on the next build once it can", async () => {
    const dir = join(fx.dir, "site-blocked");
    const files = findServer(cat.sqlite, "io.github.acme/files")!;
    await buildSite(cat.sqlite, dir, { baseUrl: "https://census.example/" });
    // The server must be re-rendered (as if its data had changed), and a plain file stands where its tool folder
    // must go, so every write of its tool pages fails with ENOTDIR.
    const state = new SiteState(`${dir}.state.db`);
    state.db.prepare("UPDATE servers SET fp = 'stale' WHERE id = ?").run(files.id);
    state.db.prepare("UPDATE files SET hash = 'stale' WHERE owner = ?").run(files.id);
    state.close();
    rmSync(join(dir, "tools", files.slug), { recursive: true });
    writeFileSync(join(dir, "tools", files.slug), "in the way");
    const err = await buildSite(cat.sqlite, dir, { baseUrl: "https://census.example/" }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    // A storage error (exit 4) naming the file on disk.
    expect(err).toMatchObject({ code: "io_error" });
    expect((err as Error).message).toMatch(new RegExp(`^cannot write ${dir}/tools/${files.slug}/[^ ]+: ENOTDIR`));
    // A build that stopped part way leaves the next one to start in full (it alone knew which search shards and
    // global pages were still to write), so the failed server's pages are written with everything else.
    rmSync(join(dir, "tools", files.slug));
    const r = await buildSite(cat.sqlite, dir, { baseUrl: "https://census.example/" });
    expect(r.serversRendered).toBe(2);
    expect(r.serversSkipped).toBe(0);
    for (const t of serverTools(cat.sqlite, files.id)) {
      expect(existsSync(join(dir, "tools", files.slug, t.slug, "index.html")), t.slug).toBe(true);
    }
    const again = await buildSite(cat.sqlite, dir, { baseUrl: "https://census.example/" });
    expect(again.pagesWritten).toBe(0);
  });

  it("after a build killed part way, removes the temporary pages its writer left (no manifest lists them)", async () => {
    const dir = join(fx.dir, "site-killed");
    await buildSite(cat.sqlite, dir, { baseUrl: "https://census.example/" });
    // What a kill -9 between a replaced page's write and its rename leaves: `<page>.<pid>.tmp` of a process that is
    // gone, and a manifest saying no build completed. A temporary page of a live process is not touched.
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    const files = findServer(cat.sqlite, "io.github.acme/files")!;
    const orphan = join(dir, "servers", files.slug, `index.json.${gone}.tmp`);
    const live = join(dir, `index.html.${process.ppid}.tmp`);
    writeFileSync(orphan, '{"cut');
    writeFileSync(live, "<html");
    const state = new SiteState(`${dir}.state.db`);
    state.setMeta("version", "");
    state.close();
    await buildSite(cat.sqlite, dir, { baseUrl: "https://census.example/" });
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(live)).toBe(true);
    rmSync(live);
  });

  it("chains the pages of a long listing by their prev and next links, each row on exactly one page", async () => {
    const dir = join(fx.dir, "site-paged");
    await buildSite(cat.sqlite, dir, { baseUrl: "https://census.example/", pageSize: { target: 3, max: 5 } });
    const readIn = (p: string) => JSON.parse(readFileSync(join(dir, p, "index.json"), "utf8"));
    const expected =
      serverTools(cat.sqlite, findServer(cat.sqlite, "io.github.acme/files")!.id).length +
      serverTools(cat.sqlite, findServer(cat.sqlite, "io.github.modelcontextprotocol/server-github")!.id).length;
    let seen = 0;
    let most = 0;
    for (const risk of readdirSync(join(dir, "browse", "risk"))) {
      let path = `/browse/risk/${risk}/`;
      let page = readIn(path);
      const total = page.total;
      const names: string[] = [];
      let pages = 0;
      for (;;) {
        pages++;
        expect(page.items.length).toBeLessThanOrEqual(5);
        names.push(...page.items.map((x: { name: string; server: string }) => `${x.server}/${x.name}`));
        if (!page.next) break;
        const next = readIn(page.next);
        expect(next.prev).toBe(path);
        expect(next.first).toBe(`/browse/risk/${risk}/`);
        expect(readFileSync(join(dir, page.next, "index.html"), "utf8")).toContain(`href="${path}" rel="prev"`);
        path = page.next;
        page = next;
      }
      most = Math.max(most, pages);
      expect(new Set(names).size).toBe(names.length);
      expect(names.length).toBe(total);
      if (total > 5) expect(pages).toBeGreaterThan(1);
      seen += total;
    }
    expect(seen).toBe(expected);
    expect(most).toBeGreaterThan(1);
  });

  it("renders the same files in worker threads as in-process", async () => {
    const a = join(fx.dir, "site-a");
    const b = join(fx.dir, "site-b");
    const ra = await buildSite(cat.sqlite, a, { baseUrl: "https://census.example/", workers: 0 });
    const rb = await buildSite(cat.sqlite, b, { baseUrl: "https://census.example/", workers: 2 });
    expect(rb.pagesWritten).toBe(ra.pagesWritten);
    const list = (d: string): string[] =>
      readdirSync(d, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(d.length))
        .sort();
    expect(list(b)).toEqual(list(a));
    for (const f of list(a)) expect(readFileSync(join(b, f), "utf8"), f).toBe(readFileSync(join(a, f), "utf8"));
  });

  it("builds the same search shards in their own thread as in-process", async () => {
    // Small shards, so the fixture's index has many; the thread takes them all when the build uses worker threads.
    const search = { maxShardBytes: 1500, threadMinShards: 1 };
    const a = join(fx.dir, "site-sa");
    const b = join(fx.dir, "site-sb");
    const ra = await buildSite(cat.sqlite, a, { baseUrl: "https://census.example/", workers: 0, search });
    const rb = await buildSite(cat.sqlite, b, { baseUrl: "https://census.example/", workers: 1, search });
    expect(ra.searchShardsThreaded).toBe(0);
    expect(ra.searchShards).toBeGreaterThan(5);
    expect(rb.searchShardsThreaded).toBe(rb.searchShardsBuilt);
    expect(rb.searchShardsBuilt).toBe(ra.searchShardsBuilt);
    expect(rb.searchShards).toBe(ra.searchShards);
    expect(rb.searchBytes).toBe(ra.searchBytes);
    const shardDir = (d: string) => join(d, "search", "s");
    const names = readdirSync(shardDir(a)).sort();
    expect(readdirSync(shardDir(b)).sort()).toEqual(names);
    for (const f of names)
      expect(readFileSync(join(shardDir(b), f), "utf8"), f).toBe(readFileSync(join(shardDir(a), f), "utf8"));
    expect(readFileSync(join(b, "search", "index.json"), "utf8")).toBe(
      readFileSync(join(a, "search", "index.json"), "utf8"),
    );
    // The manifest knows the thread's shards: a rebuild with nothing changed rewrites none of them.
    const again = await buildSite(cat.sqlite, b, { baseUrl: "https://census.example/", workers: 1, search });
    expect(again.pagesWritten).toBe(0);
  });

  it("shows hostile names and descriptions as text, with a strict CSP and no inline script", () => {
    const files = findServer(cat.sqlite, "io.github.acme/files")!;
    const evil = serverTools(cat.sqlite, files.id).find((t) => t.description === HOSTILE_DESCRIPTION)!;
    const $ = cheerio.load(read(`tools/${files.slug}/${evil.slug}/index.html`));
    // the markup arrives as text, and no element was made from it
    expect($("main").text()).toContain("<img src=x onerror=alert(1)>");
    expect($("main").text()).toContain('evil"><script>alert(2)</script>');
    expect($("img[onerror]")).toHaveLength(0);
    expect($('img[src="x"]')).toHaveLength(0);
    expect($("meta[http-equiv='Content-Security-Policy']").attr("content")).toMatch(
      /^default-src 'none'; script-src 'self'/,
    );
    // every <script> element loads a file; none has a body
    const scripts = $("script").toArray();
    expect(scripts.length).toBeGreaterThan(0);
    for (const el of scripts) {
      expect($(el).attr("src")).toMatch(/^\/assets\/[a-z-]+\.js$/);
      expect($(el).html()).toBe("");
    }
    const server = cheerio.load(read(`servers/${files.slug}/index.html`));
    expect(server("img[onerror]")).toHaveLength(0);
    expect(server('img[src="x"]')).toHaveLength(0);
  });

  it("says the same thing in the badge, the text, the JSON mirror and the policy rule", () => {
    const files = findServer(cat.sqlite, "io.github.acme/files")!;
    const tools = serverTools(cat.sqlite, files.id);
    const del = tools.find((t) => t.name === "delete_file")!;
    const c = del.classification!;
    const page = read(`tools/${files.slug}/${del.slug}/index.html`);
    const data = JSON.parse(read(`tools/${files.slug}/${del.slug}/index.json`));
    expect(data.classification.risk).toBe(c.risk);
    expect(data.classification.category).toBe(c.category);
    const $ = cheerio.load(page);
    expect($(`span.badge.risk-${c.risk}`).length).toBeGreaterThan(0);
    expect($("span.badge.cat").first().text()).toBe(c.category);
    const decision = decidePolicy(files, tools, { profile: "balanced" });
    const d = decision.tools.find((x) => x.tool === "delete_file")!;
    expect(data.policy.action).toBe(d.action);
    expect(data.policy.rules["policy.json"]).toBe(ruleForTool(decision, "delete_file", "policy.json"));
    expect(data.text.whyPolicy).toContain(d.reason);
    const server = JSON.parse(read(`servers/${files.slug}/index.json`));
    expect(server.policy["claude-code"]).toBe(renderPolicy(decision, "claude-code"));
    // the author declared delete_file read-only and not destructive: both contradictions are highlighted
    expect($("tr.contradiction > td:first-child > code").first().text()).toBe("readOnlyHint");
    expect(data.parameters.map((p: { name: string }) => p.name)).toEqual(["path", "recursive"]);
    const read_ = JSON.parse(read(`tools/${files.slug}/read-file/index.json`));
    expect(read_.parameters.find((p: { name: string }) => p.name === "encoding")).toMatchObject({
      enumValues: ["utf8", "base64"],
      defaultValue: "utf8",
      required: false,
    });
  });

  it("renders each tool's rule from a per-decision template exactly as the policy module renders it", () => {
    const provider = policyProvider();
    for (const name of ["io.github.acme/files", "io.github.modelcontextprotocol/server-github"]) {
      const server = findServer(cat.sqlite, name)!;
      const base = serverTools(cat.sqlite, server.id);
      // names that must not take the template's shortcut, or must survive it: hyphens, digits first, quotes, long
      const odd = ["get-file", "1st_tool", 'say"hi', "__proto__", "x".repeat(300), "mcp_census_placeholder_tool"];
      const tools = [...base, ...odd.map((n, i) => ({ ...base[i % base.length]!, name: n }))];
      const view = provider(server, tools);
      const decision = decidePolicy(server, tools, { profile: "balanced" });
      for (const t of tools) {
        for (const f of view.formats) {
          expect(view.rule(t.name, f), `${t.name} ${f}`).toBe(ruleForTool(decision, t.name, f as never));
          // The escaped template with the name put in is the escaped rule, for every name (odd ones included).
          expect(view.ruleMarkup(t.name, f).value, `${t.name} ${f} markup`).toBe(
            escapeHtml(ruleForTool(decision, t.name, f as never)),
          );
        }
      }
    }
  });

  it("the server page's client config names the server as its policies do, and says how to change the name", () => {
    const gh = findServer(cat.sqlite, "io.github.modelcontextprotocol/server-github")!;
    const decision = decidePolicy(gh, serverTools(cat.sqlite, gh.id), { profile: "balanced" });
    expect(decision.serverKey).toBe("github");
    const $ = cheerio.load(read(`servers/${gh.slug}/index.html`));
    const config = $("pre#client-config > code");
    expect(config, "client config block").toHaveLength(1);
    expect(Object.keys(JSON.parse(config.text()).mcpServers)).toEqual(["github"]);
    expect(JSON.parse(read(`servers/${gh.slug}/index.json`)).policy["claude-code"]).toContain('"mcp__github__');
    const named = $("p")
      .toArray()
      .find((p) => $(p).text().includes("here and in every policy on this page"));
    expect(named && $(named).text()).toContain("Named github here and in every policy on this page");
    expect(named && $(named).find("code").first().text()).toBe("github");
    expect(
      $("code")
        .toArray()
        .map((e) => $(e).text()),
    ).toContain(`mcp-census policy ${gh.slug} --as <your-name>`);
    // The policy section and each tool's rules say the same name, and how to change it.
    const note = $("#policy-h").parent().find("p.policy-name");
    expect(note.text()).toContain("These policies name the server github");
    expect(
      note
        .find("code")
        .map((_, e) => $(e).text())
        .get(),
    ).toEqual(["github", `mcp-census policy ${gh.slug} --as <your-name>`]);
    const tool = serverTools(cat.sqlite, gh.id)[0]!;
    const $t = cheerio.load(read(`tools/${gh.slug}/${tool.slug}/index.html`));
    const toolNote = $t("#rule-h").parent().find("p.policy-name");
    expect(toolNote.text()).toContain("These rules name the server github");
    expect(toolNote.text()).toContain(`mcp-census policy ${gh.slug} --as <your-name>`);
    // Every format's download says where it goes (gemini-policy had no file name or place).
    const downloads = $("ul.downloads li")
      .map((_, e) => $(e).text())
      .get();
    expect(downloads).toHaveLength(POLICY_FORMATS.length);
    for (const d of downloads) expect(d, d).toMatch(/^Download \S+ for \S+: /);
    expect(downloads.join("\n")).toMatch(/mcp-census-policy\.toml for gemini-policy: save in ~\/\.gemini\/policies\//);
    expect(downloads.join("\n")).toMatch(/permissions\.json for cursor: .*can only pre-approve/);
    expect(downloads.join("\n")).toMatch(/for policy\.json: .*not an Intercept policy/);
  });

  it("a server whose tools could not be listed gets the deny-all policy that says why, not an empty one", () => {
    const gh = findServer(cat.sqlite, "io.github.modelcontextprotocol/server-github")!;
    const failed = policyProvider()(gh, [], { startedAt: "2026-03-01T10:00:00.000Z", outcome: "timeout", error: "x" });
    const cc = JSON.parse(failed.full.find((p) => p.format === "claude-code")!.text);
    expect(cc.permissions.deny).toEqual(["mcp__github"]);
    expect(failed.full.find((p) => p.format === "policy.json")!.text).toMatch(/could not be listed \(the last probe/);
    expect(
      JSON.parse(policyProvider()(gh, []).full.find((p) => p.format === "claude-code")!.text).permissions.deny,
    ).toEqual(["mcp__github"]);
    // Listed with no tools (a probe that ended ok): nothing to deny, and nothing claims it was not listed.
    const empty = policyProvider()(gh, [], { startedAt: "2026-03-01T10:00:00.000Z", outcome: "ok", error: null });
    expect(JSON.parse(empty.full.find((p) => p.format === "claude-code")!.text).permissions.deny).toEqual([]);
  });

  it("server page counts tools, estimates tokens and lists registries", () => {
    const files = findServer(cat.sqlite, "io.github.acme/files")!;
    const tools = serverTools(cat.sqlite, files.id);
    const data = JSON.parse(read(`servers/${files.slug}/index.json`));
    const modify = tools.filter(
      (t) => t.classification && (t.classification.access !== "read" || t.classification.destructive),
    ).length;
    expect(data.counts).toMatchObject({ tools: tools.length, canModify: modify });
    expect(data.tokenEstimate).toBe(Math.ceil(JSON.stringify(tools.map((t) => t.raw)).length / 4));
    expect(data.sources.map((s: { sourceId: string }) => s.sourceId)).toEqual(["official", "smithery"]);
    expect(read(`servers/${files.slug}/index.html`)).toContain(
      `${tools.length} tools. ${modify} can modify or destroy data without limits`,
    );
  });

  it("rewrites nothing when nothing changed, only the changed server when one changes, and deletes what is gone", async () => {
    const again = await buildSite(cat.sqlite, out, { baseUrl: "https://census.example/" });
    expect(again.pagesWritten).toBe(0);
    expect(again.serversRendered).toBe(0);
    expect(again.serversSkipped).toBe(2);

    const files = findServer(cat.sqlite, "io.github.acme/files")!;
    const github = findServer(cat.sqlite, "io.github.modelcontextprotocol/server-github")!;
    const githubPage = join(out, "servers", github.slug, "index.html");
    const before = readFileSync(githubPage, "utf8");
    // files: write_file goes away, read_file gets a new description
    const changed = [
      ...FILE_TOOLS.filter((t) => t.name !== "write_file").map((t) =>
        t.name === "read_file" ? { ...t, description: "Read a file (v2)." } : t,
      ),
      { name: "rotate_secret_key", description: "Rotate the signing key.", inputSchema: { type: "object" } },
    ];
    ingestProbe(cat.sqlite, files.id, probeOk(changed, "2026-03-02T10:00:00.000Z"), "2026-03-02T10:00:00.000Z");
    classifyAll(cat);
    const r = await buildSite(cat.sqlite, out, { baseUrl: "https://census.example/" });
    expect(r.serversRendered).toBe(1);
    expect(r.serversSkipped).toBe(1);
    expect(existsSync(join(out, "tools", files.slug, "write-file"))).toBe(false);
    expect(read(`tools/${files.slug}/read-file/index.html`)).toContain("Read a file (v2).");
    const hist = JSON.parse(read(`tools/${files.slug}/read-file/index.json`)).history;
    expect(hist).toHaveLength(2);
    expect(readFileSync(githubPage, "utf8")).toBe(before);
    // write_file's page and mirror, and any browse page that only it filled
    expect(r.pagesDeleted).toBeGreaterThanOrEqual(2);
    // the search index follows: the new tool is found under its words, the removed one is gone
    const shardDocs = (tok: string) => {
      const keys = new Set<string>(JSON.parse(read("search/index.json")).shards);
      const key = shardFor(tok, keys);
      if (!key) return [];
      const sh = JSON.parse(read(`search/s/${key}.json`));
      return ((sh.tokens[tok] ?? []) as number[]).map((i) => sh.docs[i][1] as string);
    };
    // (index terms are stemmed: "rotate" is "rotat", "write" is "writ")
    expect(shardDocs(tokenize("rotate")[0]!)).toEqual(["rotate_secret_key"]);
    expect(shardDocs(tokenize("write")[0]!)).toEqual([]);
    // "Recently changed" lists recorded change events only (none were recorded here), not every new tool
    expect(JSON.parse(read("browse/recent/index.json")).items).toEqual([]);
    expect(read("browse/recent/index.html")).toContain("No changes recorded yet");

    // a new classification (no probe) re-renders that server and the browse pages it appears in
    const del = serverTools(cat.sqlite, files.id).find((t) => t.name === "delete_file")!;
    saveClassification(cat.sqlite, del.hash, { ...del.classification!, risk: "low", classifierVersion: "test-2" });
    const rc = await buildSite(cat.sqlite, out, { baseUrl: "https://census.example/" });
    expect(rc.serversRendered).toBe(1);
    expect(JSON.parse(read(`tools/${files.slug}/delete-file/index.json`)).classification.risk).toBe("low");
    expect(JSON.parse(read("browse/risk/low/index.json")).items.map((x: { name: string }) => x.name)).toContain(
      "delete_file",
    );

    // the files server disappears from every registry: all its pages go
    cat.sqlite.prepare("UPDATE sources SET last_seen = '2026-01-01' WHERE server_id = ?").run(files.id);
    markUnseen(cat.sqlite, "official", "2026-02-01");
    markUnseen(cat.sqlite, "smithery", "2026-02-01");
    const gone = await buildSite(cat.sqlite, out, { baseUrl: "https://census.example/" });
    expect(gone.serversRemoved).toBe(1);
    expect(existsSync(join(out, "servers", files.slug))).toBe(false);
    expect(existsSync(join(out, "tools", files.slug))).toBe(false);
    expect(readdirSync(join(out, "tools"))).toEqual([github.slug]);
    expect(read("sitemaps/start.xml")).not.toContain(files.slug);

    // the site folder vanishes behind the manifest's back: the next build writes it all again
    rmSync(out, { recursive: true, force: true });
    const again2 = await buildSite(cat.sqlite, out, { baseUrl: "https://census.example/" });
    expect(again2.serversRendered).toBe(1);
    expect(existsSync(join(out, "servers", github.slug, "index.html"))).toBe(true);
  });
});

describe("paging by content", () => {
  const segs = (n: number, rows: (i: number) => number) =>
    Array.from({ length: n }, (_, i) => ({ id: i + 1, fp: fpOf("f"), n: rows(i), anchor: `s${i + 1}` }));
  const size = { target: 50, max: 100 };

  it("keeps pages between a quarter of the target and the max, names them after their first row, and cuts big servers", () => {
    const plans = planPages(
      "d",
      segs(2000, (i) => (i === 700 ? 260 : 1 + (i % 7))),
      size,
    );
    expect(plans[0]!.name).toBe("");
    expect(new Set(plans.map((p) => p.name)).size).toBe(plans.length);
    for (const [i, p] of plans.entries()) {
      expect(p.rows).toBeLessThanOrEqual(size.max);
      expect(p.prev).toBe(plans[i - 1]?.name);
      expect(p.next).toBe(plans[i + 1]?.name);
    }
    // the 260-row server is cut at 100 and 200 rows of its own
    expect(plans.map((p) => p.name)).toEqual(expect.arrayContaining(["s701", "s701~100", "s701~200"]));
    const avg = plans.reduce((n, p) => n + p.rows, 0) / plans.length;
    expect(avg).toBeGreaterThan(size.target * 0.5);
    expect(avg).toBeLessThan(size.target * 2);
  });

  it("re-keys only the pages next to a server whose rows change or that disappears", () => {
    const base = segs(3000, (i) => 1 + (i % 5));
    const before = planPages("d", base, size);
    const changed = base.map((s) => (s.id === 1500 ? { ...s, n: s.n + 3, fp: fpOf("g") } : s));
    const removed = base.filter((s) => s.id !== 2200);
    for (const after of [planPages("d", changed, size), planPages("d", removed, size)]) {
      const old = new Set(before.map((p) => p.key));
      const rekeyed = after.filter((p) => !old.has(p.key));
      expect(rekeyed.length).toBeGreaterThan(0);
      expect(rekeyed.length).toBeLessThanOrEqual(4);
    }
    // numbering would have shifted every later page; here the names of the others stay
    const names = new Set(before.map((p) => p.name));
    expect(planPages("d", removed, size).filter((p) => !names.has(p.name)).length).toBeLessThanOrEqual(2);
  });

  it("re-keys the first page when what only it shows changes", () => {
    const base = segs(500, () => 2);
    const a = planPages("d", base, size, "total 1000");
    const b = planPages("d", base, size, "total 1001");
    expect(b[0]!.key).not.toBe(a[0]!.key);
    expect(b.slice(1).map((p) => p.key)).toEqual(a.slice(1).map((p) => p.key));
  });
});

describe("incremental search shards", () => {
  it("rebuilds only the shards of the tokens a change touches, and they match a full build byte for byte", async () => {
    const fx = buildFixtureCatalog();
    const out = join(fx.dir, "site");
    const fresh = join(fx.dir, "fresh");
    // A small cap, so common tokens ("get", "file", …) are cut and the rank cut-off is exercised.
    const opts = { baseUrl: "https://census.example/", search: { maxPostings: 3, maxShardBytes: 2000 } };
    try {
      await buildSite(fx.cat.sqlite, out, opts);
      const shardKeys = () => new Set<string>(JSON.parse(readFileSync(join(out, "search/index.json"), "utf8")).shards);
      const keysBefore = shardKeys();
      const tools = serverTools(fx.cat.sqlite, fx.github).map((t) => t.raw);
      // The tool with the shortest name ranks near the top of its tokens' lists, so it sits above the cut of the
      // common ones (those tokens must be rebuilt) and trails in none.
      const changedTool = [...tools].sort((a, b) => a.name.length - b.name.length)[0]!;
      const newDescription = "Zanzibar frobnicates the repository quietly.";
      ingestProbe(
        fx.cat.sqlite,
        fx.github,
        probeOk(
          tools.map((t) => (t === changedTool ? { ...t, description: newDescription } : t)),
          "2026-03-02T10:00:00.000Z",
        ),
        "2026-03-02T10:00:00.000Z",
      );
      // On the files server, read_file ranks among the best of "file", a token the GitHub server's tools fill beyond
      // the cap: its change must reach that token's shard.
      const fileTools = serverTools(fx.cat.sqlite, fx.files).map((t) => t.raw);
      const readFile = fileTools.find((t) => t.name === "read_file")!;
      const readDescription = "Read a file, politely.";
      ingestProbe(
        fx.cat.sqlite,
        fx.files,
        probeOk(
          fileTools.map((t) => (t === readFile ? { ...t, description: readDescription } : t)),
          "2026-03-02T10:00:00.000Z",
        ),
        "2026-03-02T10:00:00.000Z",
      );
      classifyAll(fx.cat);
      const r = await buildSite(fx.cat.sqlite, out, opts);
      expect(r.serversRendered).toBe(2);
      // Only shards holding a token of a changed tool (its name, its old or new description; a shard left empty
      // is dropped) are rebuilt, not the shards of all 40 of the GitHub server's tools.
      const keys = shardKeys();
      const words = [
        changedTool.name,
        changedTool.description,
        newDescription,
        "read_file",
        readFile.description,
        readDescription,
      ]
        .join(" ")
        .split(/\s+/);
      const shardsOf = (ws: string[]) =>
        new Set(
          ws.flatMap((w) => tokenize(w)).flatMap((t) => [shardFor(t, keysBefore), shardFor(t, keys)].filter((k) => k)),
        );
      const toolShards = shardsOf(words);
      const serverShards = shardsOf(tools.flatMap((t) => `${t.name} ${t.description ?? ""}`.split(/\s+/)));
      expect(r.searchShardsBuilt).toBeGreaterThan(0);
      expect(r.searchShardsBuilt).toBeLessThanOrEqual(toolShards.size);
      expect(serverShards.size).toBeGreaterThan(2 * toolShards.size);
      // The same catalog built from scratch gives the same search files.
      await buildSite(fx.cat.sqlite, fresh, opts);
      const files = readdirSync(join(fresh, "search/s")).sort();
      expect(readdirSync(join(out, "search/s")).sort()).toEqual(files);
      for (const f of ["index.json", ...files.map((x) => `s/${x}`)])
        expect(readFileSync(join(out, "search", f), "utf8"), f).toBe(readFileSync(join(fresh, "search", f), "utf8"));
      const zKey = shardFor(tokenize("Zanzibar")[0]!, keys)!;
      const z = JSON.parse(readFileSync(join(out, `search/s/${zKey}.json`), "utf8"));
      expect(z.tokens[tokenize("Zanzibar")[0]!].map((i: number) => z.docs[i][1])).toEqual([changedTool.name]);
      // So does the rest of the site, also after a change of counts (a read-only tool goes away: listings, llms-full.txt).
      expectSameSite(out, fresh);
      ingestProbe(
        fx.cat.sqlite,
        fx.files,
        probeOk(
          fileTools.filter((t) => t.name !== "read_file"),
          "2026-03-03T10:00:00.000Z",
        ),
        "2026-03-03T10:00:00.000Z",
      );
      classifyAll(fx.cat);
      await buildSite(fx.cat.sqlite, out, opts);
      const fresh2 = join(fx.dir, "fresh2");
      await buildSite(fx.cat.sqlite, fresh2, opts);
      expectSameSite(out, fresh2);
      expect(readFileSync(join(out, "llms-full.txt"), "utf8")).toContain(`${fileTools.length - 1} tools`);
    } finally {
      fx.cat.close();
      rmSync(fx.dir, { recursive: true, force: true });
    }
  });
});

/** Every file of two site folders, the same paths with the same bytes. */
function expectSameSite(a: string, b: string): void {
  const list = (root: string, dir = ""): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? list(root, join(dir, e.name)) : [join(dir, e.name)],
    );
  const files = list(b).sort();
  expect(list(a).sort()).toEqual(files);
  for (const f of files) expect(readFileSync(join(a, f), "utf8"), f).toBe(readFileSync(join(b, f), "utf8"));
}
