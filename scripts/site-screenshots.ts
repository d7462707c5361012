/**
 * Builds the site from the tests' fixture catalog, serves it on loopback and takes screenshots of the main pages at
 * 1366 px and 390 px with Debian's chromium, into docs/screenshots/ (or the folder given as the first argument).
 *
 *   npx tsx scripts/site-screenshots.ts [outDir]
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildSite } from "../src/site/index.js";
import { launchChromium, serveSite } from "../test/helpers/site-browser.js";
import { buildFixtureCatalog } from "../test/unit/site-fixture.js";

const out = process.argv[2] ?? "docs/screenshots";
mkdirSync(out, { recursive: true });
const fx = buildFixtureCatalog();
const siteDir = join(fx.dir, "site");
const { server, origin } = await serveSite(siteDir);
await buildSite(fx.cat.sqlite, siteDir, { baseUrl: `${origin}/` });
const browser = await launchChromium();
const pages = (process.env.PAGES ?? "/,/servers/,/browse/,/search/?q=delete").split(",");

try {
  for (const width of [1366, 390]) {
    const ctx = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await ctx.newPage();
    for (const p of pages) {
      await page.goto(origin + p, { waitUntil: "networkidle" });
      const name = `${p.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "") || "home"}-${width}.png`;
      await page.screenshot({ path: join(out, name), fullPage: true });
      console.log(join(out, name));
    }
    await ctx.close();
  }
} finally {
  await browser.close();
  server.close();
  fx.cat.close();
  rmSync(fx.dir, { recursive: true, force: true });
}
