/**
 * Builds the site from the tests' fixture catalog, serves it on loopback and takes screenshots of the main pages at
 * 1366 px and 390 px with Debian's chromium, into docs/screenshots/ (or the folder given as the first argument).
 *
 *   npx tsx scripts/site-screenshots.ts [outDir]
 */
import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { buildSite } from "../src/site/index.js";
import { buildFixtureCatalog } from "../test/unit/site-fixture.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".json": "application/json",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
};

const out = process.argv[2] ?? "docs/screenshots";
mkdirSync(out, { recursive: true });
const fx = buildFixtureCatalog();
const siteDir = join(fx.dir, "site");
const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  let p = normalize(join(siteDir, decodeURIComponent(url.pathname)));
  if (!p.startsWith(siteDir)) return void res.writeHead(403).end();
  try {
    if (statSync(p).isDirectory()) p = join(p, "index.html");
    res.writeHead(200, { "content-type": TYPES[extname(p)] ?? "application/octet-stream" }).end(readFileSync(p));
  } catch {
    res.writeHead(404, { "content-type": "text/html" }).end(readFileSync(join(siteDir, "404.html")));
  }
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
await buildSite(fx.cat.sqlite, siteDir, { baseUrl: `${origin}/` });
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
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
