/**
 * Issue 17 item 8: a full disk gave exit 1 with no path, and left empty pages in the live site until the next build
 * (pages were truncated in place, then the write failed). Now: exit 4 naming the file; an existing page is replaced
 * through a temporary name and a rename, a new page is created in place and removed if its write fails, so a page on
 * disk is always a whole page (old or new); and the next build with room repairs the whole site, search included.
 *
 * Real small file systems: tmpfs mounts of a few MB made by the test (root is needed to mount; the suite runs as
 * root on this machine, elsewhere these tests are skipped with that reason).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { expectRepairedLikeClean, writeExampleSeeds } from "../helpers/site-repair.js";
import { tempDir } from "../helpers/tmp.js";

const isRoot = process.getuid?.() === 0;

let t: ReturnType<typeof tempDir>;
const mounts: string[] = [];

function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  mounts.push(dir);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** Pages that are empty or cut short: HTML that does not end with </html>, JSON that does not parse. */
function brokenPages(files: string[]): string[] {
  return files.filter((f) => {
    const text = readFileSync(f, "utf8");
    if (text.length === 0) return true;
    if (f.endsWith(".html")) return !text.trimEnd().endsWith("</html>");
    if (f.endsWith(".json")) {
      try {
        JSON.parse(text);
      } catch {
        return true;
      }
    }
    return false;
  });
}

/** Every file under `dir` by its path relative to `dir`, with its bytes. */
function oneErrorLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.startsWith("mcp-census:"));
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

beforeAll(() => {
  t = tempDir("mcp-census-diskfull-");
});
afterAll(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync("umount", [m]);
    } catch {
      execFileSync("umount", ["-l", m]);
    }
  }
  t.cleanup();
});

describe.skipIf(!isRoot)("a full disk (issue 17 item 8; needs root to mount a tmpfs)", () => {
  it("the site's disk fills during a rebuild: exit 4 naming the file, and no live page is empty or cut", async () => {
    const seeds = join(t.dir, "seeds-site");
    const env = { MCP_CENSUS_DATA_DIR: join(t.dir, "data-site"), MCP_CENSUS_SEEDS_DIR: seeds };
    const site = join(t.dir, "live", "site");
    mountTmpfs(site, "6m");

    writeExampleSeeds(seeds, 100, "v1");
    expect((await runCli(["crawl", "--no-probe", "--no-outputs"], { env, cwd: t.dir })).code).toBe(0);
    const first = await runCli(["site", "-o", site], { env, cwd: t.dir });
    expect(first.code).toBe(0);
    const before = filesUnder(site).length;

    // Every page changes and 200 servers more: the rebuild cannot fit.
    writeExampleSeeds(seeds, 300, "v2");
    expect((await runCli(["crawl", "--no-probe", "--no-outputs"], { env, cwd: t.dir })).code).toBe(0);
    const full = await runCli(["site", "-o", site], { env, cwd: t.dir, timeoutMs: 120_000 });
    expect(full.code).toBe(4);
    const line = oneErrorLine(full.stderr);
    expect(line).toMatch(new RegExp(`cannot write ${site}/\\S+: .*no space left on device`, "i"));

    const files = filesUnder(site);
    expect(files.length).toBeGreaterThanOrEqual(before);
    expect(files.filter((f) => /\.tmp$/.test(f))).toEqual([]);
    expect(brokenPages(files)).toEqual([]);

    // Room again: the next build repairs everything the failed one left behind — pages, and the search shards and
    // global pages, which a failed build never reached for the servers it had already recorded as rendered. The live
    // site is then byte for byte what a clean build of the same catalog makes.
    execFileSync("mount", ["-o", "remount,size=64m", site]);
    await expectRepairedLikeClean(site, join(t.dir, "clean", "site"), env, t.dir);
  }, 300_000);

  it("the policies' disk fills: exit 4 naming the policy file, and no policy file is left empty or half-written", async () => {
    const seeds = join(t.dir, "seeds-policy");
    const data = join(t.dir, "data-policy");
    const env = { MCP_CENSUS_DATA_DIR: data, MCP_CENSUS_SEEDS_DIR: seeds };
    writeExampleSeeds(seeds, 300, "v1");
    expect((await runCli(["crawl", "--no-probe", "--no-outputs"], { env, cwd: t.dir })).code).toBe(0);
    const policies = join(data, "out", "policies");
    mountTmpfs(policies, "256k");
    const r = await runCli(["policy", "--all"], { env, cwd: t.dir, timeoutMs: 120_000 });
    expect(r.code).toBe(4);
    expect(oneErrorLine(r.stderr)).toMatch(
      new RegExp(`^mcp-census: cannot write ${policies}/\\S+: no space left on the device \\(ENOSPC\\)$`),
    );
    const files = filesUnder(policies);
    expect(files.filter((f) => /\.tmp-\d+$/.test(f))).toEqual([]);
    for (const f of files.filter((x) => x.endsWith(".json")))
      expect(() => JSON.parse(readFileSync(f, "utf8")), f).not.toThrow();
  }, 120_000);

  it("the catalog's disk fills during a crawl: exit 4 naming the catalog file", async () => {
    const seeds = join(t.dir, "seeds-db");
    writeExampleSeeds(seeds, 3000, "v1");
    const data = join(t.dir, "small-data");
    mountTmpfs(data, "400k");
    const r = await runCli(["crawl", "--no-probe", "--no-outputs"], {
      env: { MCP_CENSUS_DATA_DIR: data, MCP_CENSUS_SEEDS_DIR: seeds },
      cwd: t.dir,
    });
    expect(r.code).toBe(4);
    expect(oneErrorLine(r.stderr)).toBe(
      `mcp-census: cannot write ${join(data, "catalog.db")}: no space left on the device (SQLITE_FULL)`,
    );
  }, 120_000);

  it("a first build into a disk too small: exit 4 naming the file, and no page is left empty or cut", async () => {
    const seeds = join(t.dir, "seeds-first");
    const env = { MCP_CENSUS_DATA_DIR: join(t.dir, "data-first"), MCP_CENSUS_SEEDS_DIR: seeds };
    writeExampleSeeds(seeds, 300, "v1");
    expect((await runCli(["crawl", "--no-probe", "--no-outputs"], { env, cwd: t.dir })).code).toBe(0);
    const out = join(t.dir, "small-out");
    mountTmpfs(out, "1m");
    const r = await runCli(["site", "-o", join(out, "site")], { env, cwd: t.dir, timeoutMs: 120_000 });
    expect(r.code).toBe(4);
    expect(oneErrorLine(r.stderr)).toMatch(/^mcp-census: cannot write \/\S+: .*no space left on (the )?device/i);
    // New pages are created in place: one whose write failed is removed, never left cut short.
    const files = filesUnder(join(out, "site"));
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(brokenPages(files)).toEqual([]);
  }, 120_000);

  it("the manifest's disk fills while building the site: exit 4 naming the manifest file, pages whole", async () => {
    const seeds = join(t.dir, "seeds-manifest");
    const env = { MCP_CENSUS_DATA_DIR: join(t.dir, "data-manifest"), MCP_CENSUS_SEEDS_DIR: seeds };
    writeExampleSeeds(seeds, 300, "v1");
    expect((await runCli(["crawl", "--no-probe", "--no-outputs"], { env, cwd: t.dir })).code).toBe(0);
    // The build manifest (<site>.state.db) on a disk too small for it, the pages on one with room.
    const out = join(t.dir, "manifest-out");
    mountTmpfs(out, "256k");
    const site = join(out, "site");
    mountTmpfs(site, "64m");
    const r = await runCli(["site", "-o", site], { env, cwd: t.dir, timeoutMs: 120_000 });
    expect(r.code).toBe(4);
    expect(oneErrorLine(r.stderr)).toBe(
      `mcp-census: cannot write ${site}.state.db: no space left on the device (SQLITE_FULL)`,
    );
    expect(brokenPages(filesUnder(site))).toEqual([]);
  }, 120_000);
});
