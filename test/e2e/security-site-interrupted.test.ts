/**
 * Issue 17 item 8's other half: a site build that stops part way must not leave the next build believing it is done.
 * A build records each rendered server in its manifest (<site>.state.db, committed every 500 servers) but writes the
 * search shards and the listing pages only at its end; killed after a commit, the next build took those servers as
 * unchanged and left the search shards with their old descriptions. Now the next build starts in full.
 *
 * The real CLI, a real SQLite manifest watched from outside, SIGKILL.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.js";
import { expectRepairedLikeClean, writeExampleSeeds } from "../helpers/site-repair.js";
import { tempDir } from "../helpers/tmp.js";

const N = 2000;

/** How many servers the manifest on disk has recorded with the new descriptions (committed rows only). */
function committedV2(statePath: string): number {
  try {
    const db = new Database(statePath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM search_docs WHERE doc LIKE '%(v2)%'").get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

describe("a site build killed part way (issue 17 item 8)", () => {
  const t = tempDir("mcp-census-site-kill-");
  afterAll(() => t.cleanup());

  it("the next build repairs the whole site, search shards included", async () => {
    const seeds = join(t.dir, "seeds");
    const env = { MCP_CENSUS_DATA_DIR: join(t.dir, "data"), MCP_CENSUS_SEEDS_DIR: seeds };
    const site = join(t.dir, "live", "site");
    writeExampleSeeds(seeds, N, "v1");
    expect((await runCli(["crawl", "--no-probe", "--no-outputs"], { env, cwd: t.dir })).code).toBe(0);
    expect((await runCli(["site", "-o", site], { env, cwd: t.dir, timeoutMs: 120_000 })).code).toBe(0);

    writeExampleSeeds(seeds, N, "v2");
    expect((await runCli(["crawl", "--no-probe", "--no-outputs"], { env, cwd: t.dir })).code).toBe(0);
    // Killed once the manifest has committed some re-rendered servers, before the build's end.
    const killed = await new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, "bin", "mcp-census.js"), "site", "-o", site], {
        cwd: t.dir,
        env: { ...process.env, ...env, MCP_CENSUS_LOG_LEVEL: "warn" },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      const poll = setInterval(() => {
        if (committedV2(`${site}.state.db`) > 0) child.kill("SIGKILL");
      }, 5);
      child.on("exit", (_code, signal) => {
        clearInterval(poll);
        resolve({ signal, stderr });
      });
    });
    expect(killed.signal, `the build ended before it could be killed: ${killed.stderr}`).toBe("SIGKILL");
    expect(committedV2(`${site}.state.db`)).toBeLessThan(N);

    await expectRepairedLikeClean(site, join(t.dir, "clean", "site"), env, t.dir);
  }, 300_000);
});
