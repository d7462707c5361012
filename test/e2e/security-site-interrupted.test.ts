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
import { tempDir } from "../helpers/tmp.js";

const N = 2000;

function writeSeeds(dir: string, variant: string): void {
  mkdirSync(dir, { recursive: true });
  const entries = Array.from({ length: N }, (_, i) => ({
    name: `io.github.example/server-${i}`,
    description: `Example server ${i} (${variant}): ${"it reads and writes notes in folders. ".repeat(8)}`,
    version: "1.0.0",
    packages: [
      { registryType: "npm", identifier: `example-server-${i}`, version: "1.0.0", transport: { type: "stdio" } },
    ],
  }));
  writeFileSync(join(dir, "servers.json"), JSON.stringify(entries));
}

function tree(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .map((f) => join(dir, f))
      .filter((f) => statSync(f).isFile())
      .map((f) => [f.slice(dir.length), readFileSync(f)]),
  );
}

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
    writeSeeds(seeds, "v1");
    expect((await runCli(["crawl", "--no-probe", "--no-outputs"], { env, cwd: t.dir })).code).toBe(0);
    expect((await runCli(["site", "-o", site], { env, cwd: t.dir, timeoutMs: 120_000 })).code).toBe(0);

    writeSeeds(seeds, "v2");
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

    const next = await runCli(["site", "-o", site], { env, cwd: t.dir, timeoutMs: 120_000 });
    expect(next.code, next.stderr).toBe(0);
    const clean = join(t.dir, "clean", "site");
    expect((await runCli(["site", "-o", clean], { env, cwd: t.dir, timeoutMs: 120_000 })).code).toBe(0);
    const [live, want] = [tree(site), tree(clean)];
    expect([...live.keys()].sort()).toEqual([...want.keys()].sort());
    expect([...live].filter(([p, b]) => !b.equals(want.get(p)!)).map(([p]) => p)).toEqual([]);
  }, 300_000);
});
