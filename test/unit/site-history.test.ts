import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import * as cheerio from "cheerio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordChanges } from "../../src/history/index.js";
import { buildSite } from "../../src/site/index.js";
import { ingestProbe, markUnseen } from "../../src/store/catalog.js";
import type { Catalog } from "../../src/store/db.js";
import { findServer } from "../../src/store/queries.js";
import { buildFixtureCatalog, classifyAll, FILE_TOOLS, probeOk } from "./site-fixture.js";

const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

/** A minimal well-formedness check: balanced tags, quoted attributes, no stray `<` or `&` in text. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: string[] = [];
  let roots = 0;
  for (const m of body.matchAll(/<[^>]*>|[^<]+/g)) {
    const tok = m[0];
    if (!tok.startsWith("<")) {
      if (stack.length === 0 && tok.trim()) throw new Error(`text outside the root: ${tok.slice(0, 40)}`);
      if (tok.replace(ENTITY, "").includes("&")) throw new Error(`bare & in text: ${tok.slice(0, 80)}`);
      continue;
    }
    const t = /^<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>$/.exec(tok);
    if (!t) throw new Error(`malformed tag: ${tok.slice(0, 80)}`);
    const [, close, name, attrs, selfClose] = t;
    if ((attrs ?? "").replace(ENTITY, "").includes("&")) throw new Error(`bare & in attribute: ${tok.slice(0, 80)}`);
    if (close) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join("><")}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

const HOSTILE = 'Read a file. <script>alert("feed")</script> & ]]> done';

describe("site history and Atom feeds", () => {
  let fx: ReturnType<typeof buildFixtureCatalog>;
  let cat: Catalog;
  let out: string;
  let slug: string;
  const read = (p: string) => readFileSync(join(out, p), "utf8");
  const opts = { baseUrl: "https://census.example/" };

  beforeAll(async () => {
    fx = buildFixtureCatalog();
    cat = fx.cat;
    out = join(fx.dir, "site");
    slug = findServer(cat.sqlite, "io.github.acme/files")!.slug;
    await buildSite(cat.sqlite, out, opts);
    // A second listing: read_file's description changes (to hostile text), so it has two versions and an event.
    const at = "2026-03-02T10:00:00.000Z";
    const next = FILE_TOOLS.map((t) => (t.name === "read_file" ? { ...t, description: HOSTILE } : t));
    const ingest = ingestProbe(cat.sqlite, fx.files, probeOk(next, at), at);
    classifyAll(cat);
    expect(recordChanges(cat.sqlite, fx.files, ingest).map((c) => c.toolName)).toEqual(["read_file"]);
  });
  afterAll(() => {
    cat.close();
    rmSync(fx.dir, { recursive: true, force: true });
  });

  it("shows each version's dates, the escaped readable diff and the change event on the tool page and mirror", async () => {
    const r = await buildSite(cat.sqlite, out, opts);
    expect(r.serversRendered).toBe(1);
    const $ = cheerio.load(read(`tools/${slug}/read-file/index.html`));
    const hist = $('section[aria-labelledby="hist-h"]');
    const versions = hist.find("ol.history > li");
    expect(versions).toHaveLength(2);
    expect(versions.eq(0).text()).toContain("seen 2026-03-01 to 2026-03-01");
    expect(versions.eq(1).text()).toContain("first seen 2026-03-02 (current)");
    // the new description is an added line, the old one a removed line, both as text (the hostile markup is text)
    expect(hist.find("ins").text()).toContain('Read a file. <script>alert("feed")</script> & ]]>');
    expect(hist.find("del").text()).toContain("Read the complete contents of a file");
    expect(hist.find("script")).toHaveLength(0);
    const json = JSON.parse(read(`tools/${slug}/read-file/index.json`));
    expect(json.history).toHaveLength(2);
    expect(json.history[0].diff).toEqual([]);
    expect(json.history[1].diff.some((l: string) => l.includes(HOSTILE))).toBe(true);
    expect(json.changes).toHaveLength(1);
    const ev = json.changes[0];
    expect(ev.at).toBe("2026-03-02T10:00:00.000Z");
    expect(typeof ev.reason).toBe("string");
    const row = hist.find("table tbody tr").first().find("td");
    expect(row.eq(1).text()).toBe(ev.kind.replace(/_/g, " "));
    expect(row.eq(2).find(`span.badge.sev-${ev.severity}`).text()).toBe(ev.severity);
    // an unchanged tool has one version, no diff, no events
    const other = JSON.parse(read(`tools/${slug}/delete-file/index.json`));
    expect(other.history).toHaveLength(1);
    expect(other.changes).toEqual([]);
    // the catalog's "Recently changed" page shows the change: which tool, how severe, what changed
    const recent = JSON.parse(read("browse/recent/index.json")).items;
    expect(recent).toHaveLength(1);
    expect(recent[0]).toMatchObject({ tool: "read_file", kind: ev.kind, severity: ev.severity, reason: ev.reason });
    const recentPage = cheerio.load(read("browse/recent/index.html"));
    expect(recentPage(`table tbody tr span.badge.sev-${ev.severity}`).text()).toBe(ev.severity);
  });

  it("writes well-formed catalog and server feeds with an entry for the change, hostile text escaped", () => {
    for (const path of ["feed.xml", `servers/${slug}/feed.xml`]) {
      const feed = read(path);
      assertWellFormedXml(feed);
      const entries = feed.match(/<entry>[\s\S]*?<\/entry>/g) ?? [];
      expect(entries, path).toHaveLength(1);
      expect(entries[0]).toContain("read_file");
      expect(entries[0]).toContain(`https://census.example/tools/${slug}/read-file/#hist-h`);
      expect(entries[0]).toContain("&lt;script&gt;alert(&quot;feed&quot;)&lt;/script&gt; &amp; ]]&gt;");
      expect(feed).not.toContain("<script>");
    }
    // the GitHub server has no changes: an empty, still valid feed
    const gh = findServer(cat.sqlite, "io.github.modelcontextprotocol/server-github")!;
    const empty = read(`servers/${gh.slug}/feed.xml`);
    assertWellFormedXml(empty);
    expect(empty).not.toContain("<entry>");
    // announced in the head and linked visibly
    const home = cheerio.load(read("index.html"));
    const homeFeed = home('head link[rel="alternate"][type="application/atom+xml"]');
    expect(homeFeed.attr("href")).toBe("/feed.xml");
    expect(homeFeed.attr("title")).toBe("Changes in the catalog");
    expect(home('body a[type="application/atom+xml"]').attr("href")).toBe("/feed.xml");
    const server = cheerio.load(read(`servers/${slug}/index.html`));
    const serverFeed = server('head link[rel="alternate"][type="application/atom+xml"]');
    expect(serverFeed.attr("href")).toBe(`/servers/${slug}/feed.xml`);
    expect(serverFeed.attr("title")).toBe("Changes of io.github.acme/files");
    expect(server('body a[type="application/atom+xml"]').attr("href")).toBe(`/servers/${slug}/feed.xml`);
    // the sitemap lists only HTML pages
    expect(read("sitemaps/start.xml")).not.toContain("feed.xml");
  });

  it("leaves the feeds alone when nothing changed, and drops a removed server's feed with its folder", async () => {
    const paths = ["feed.xml", `servers/${slug}/feed.xml`].map((p) => join(out, p));
    const before = paths.map((p) => statSync(p).mtimeMs);
    await new Promise((r) => setTimeout(r, 20));
    const again = await buildSite(cat.sqlite, out, opts);
    expect(again.pagesWritten).toBe(0);
    expect(paths.map((p) => statSync(p).mtimeMs)).toEqual(before);

    cat.sqlite.prepare("UPDATE sources SET last_seen = '2026-01-01' WHERE server_id = ?").run(fx.files);
    markUnseen(cat.sqlite, "official", "2026-02-01");
    markUnseen(cat.sqlite, "smithery", "2026-02-01");
    const gone = await buildSite(cat.sqlite, out, opts);
    expect(gone.serversRemoved).toBe(1);
    expect(existsSync(join(out, "servers", slug))).toBe(false);
    // the catalog feed keeps the change but no longer links to the removed pages
    const feed = read("feed.xml");
    assertWellFormedXml(feed);
    expect(feed).not.toContain(`/tools/${slug}/`);
  });

  it("finds what changed in a catalog that predates revision counters (opened read-only, not migrated)", async () => {
    const old = buildFixtureCatalog();
    try {
      old.cat.sqlite.exec(`
        DROP TRIGGER servers_rev_au; DROP TRIGGER servers_updated_at_au; DROP TRIGGER sources_rev_ai; DROP TRIGGER sources_rev_au;
        DROP TRIGGER sources_rev_ad; DROP TRIGGER changes_rev_ai; DROP TRIGGER changes_rev_ad; DROP INDEX servers_status_rev;
        ALTER TABLE servers DROP COLUMN rev;`);
      const dir = join(old.dir, "site");
      expect((await buildSite(old.cat.sqlite, dir, opts)).serversRendered).toBe(2);
      expect((await buildSite(old.cat.sqlite, dir, opts)).serversRendered).toBe(0);
      const id = (old.cat.sqlite.prepare("SELECT id FROM servers ORDER BY id LIMIT 1").get() as { id: number }).id;
      old.cat.sqlite.prepare("UPDATE servers SET description = 'changed words' WHERE id = ?").run(id);
      const r = await buildSite(old.cat.sqlite, dir, opts);
      expect(r.serversRendered).toBe(1);
      expect(r.serversSkipped).toBe(1);
    } finally {
      old.cat.close();
      rmSync(old.dir, { recursive: true, force: true });
    }
  });

  it("builds a catalog that predates change events, with empty feeds", async () => {
    const old = buildFixtureCatalog();
    try {
      old.cat.sqlite.exec("PRAGMA foreign_keys = OFF; DROP TABLE changes;");
      const dir = join(old.dir, "site");
      const r = await buildSite(old.cat.sqlite, dir, opts);
      expect(r.serversRendered).toBe(2);
      const feed = readFileSync(join(dir, "feed.xml"), "utf8");
      assertWellFormedXml(feed);
      expect(feed).not.toContain("<entry>");
    } finally {
      old.cat.close();
      rmSync(old.dir, { recursive: true, force: true });
    }
  });
});
