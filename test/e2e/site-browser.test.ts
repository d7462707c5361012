import { mkdirSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSite } from "../../src/site/index.js";
import { findServer, serverTools } from "../../src/store/queries.js";
import { launchChromium, serveSite } from "../helpers/site-browser.js";
import { buildFixtureCatalog, HOSTILE_DESCRIPTION, HOSTILE_NAME } from "../unit/site-fixture.js";

const ARTIFACTS = join(process.cwd(), "test/artifacts");

describe("the site in a real browser", () => {
  let fx: ReturnType<typeof buildFixtureCatalog>;
  let http: Server;
  let browser: Browser;
  let origin: string;
  let siteDir: string;

  beforeAll(async () => {
    fx = buildFixtureCatalog();
    siteDir = join(fx.dir, "site");
    ({ server: http, origin } = await serveSite(siteDir));
    await buildSite(fx.cat.sqlite, siteDir, { baseUrl: `${origin}/` });
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => http?.close(r));
    fx?.cat.close();
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
  });

  it("finds a tool by search, opens its page and copies its policy rule", async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("response", (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
    await page.goto(`${origin}/search/`);
    await page.getByLabel("Search tools and servers by name, description, risk or category").fill("delete fi");
    const link = page.locator("#search-results a", { hasText: "delete_file" });
    await link.waitFor();
    await link.click();
    const files = findServer(fx.cat.sqlite, "io.github.acme/files")!;
    await page.waitForURL(`${origin}/tools/${files.slug}/delete-file/`);
    await expect(page.locator("h1").textContent()).resolves.toBe("delete_file");

    const expected = JSON.parse(readFileSync(join(siteDir, "tools", files.slug, "delete-file", "index.json"), "utf8"));
    const copied = page.evaluate(
      () =>
        new Promise<string>((resolve) =>
          document.addEventListener("mcp-census:copied", (e) => resolve((e as CustomEvent).detail.text), {
            once: true,
          }),
        ),
    );
    await page.getByRole("button", { name: "Copy" }).first().click();
    expect(await copied).toBe(expected.policy.rules["policy.json"]);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(expected.policy.rules["policy.json"]);
    await expect(page.getByRole("status").first().textContent()).resolves.toBe("Copied");
    await page.screenshot({ path: join(ARTIFACTS, "site-tool.png"), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("renders a hostile name and description as text and runs no script", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs: string[] = [];
    const violations: string[] = [];
    page.on("dialog", async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    await page.exposeFunction("reportViolation", (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) =>
        (window as unknown as { reportViolation(v: string): void }).reportViolation(e.violatedDirective),
      );
    });
    const files = findServer(fx.cat.sqlite, "io.github.acme/files")!;
    const evil = serverTools(fx.cat.sqlite, files.id).find((t) => t.name === HOSTILE_NAME)!;
    await page.goto(`${origin}/tools/${files.slug}/${evil.slug}/`);
    await expect(page.locator("h1").textContent()).resolves.toBe(HOSTILE_NAME);
    await expect(page.locator("#desc-h + p.desc").textContent()).resolves.toBe(HOSTILE_DESCRIPTION);
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.locator("main script").count()).toBe(0);
    // the server page lists it too, and search shows it as text
    await page.goto(`${origin}/servers/${files.slug}/`);
    await page.goto(`${origin}/search/?q=evil`);
    await page.locator("#search-results a").first().waitFor();
    await expect(page.locator("#search-results a").first().textContent()).resolves.toBe(HOSTILE_NAME);
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    expect(violations).toEqual([]);
    await context.close();
  });

  it("reads without JavaScript, has a working skip link, and keeps a server page screenshot", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const gh = findServer(fx.cat.sqlite, "io.github.modelcontextprotocol/server-github")!;
    await page.goto(`${origin}/servers/${gh.slug}/`);
    await expect(page.locator("h1").textContent()).resolves.toBe("GitHub");
    expect(await page.locator("main table.tools a").count()).toBe(serverTools(fx.cat.sqlite, gh.id).length);
    expect(await page.locator("header").count()).toBe(1);
    expect(await page.locator("main#main").count()).toBe(1);
    await page.keyboard.press("Tab");
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(page.url()).toMatch(/#main$/);
    await page.screenshot({ path: join(ARTIFACTS, "site-server.png"), fullPage: true });
    await page.goto(`${origin}/`);
    expect(await page.locator("svg.chart").count()).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, "site-home.png"), fullPage: true });
    await context.close();
  });
});
