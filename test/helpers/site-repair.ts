import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { runCli } from "./cli.js";
import { npmSeedEntry, writeSeeds } from "./seeds.js";

/** Seeds of `n` example npm servers; `variant` goes into every description, so a new variant changes every page. */
export function writeExampleSeeds(dir: string, n: number, variant: string): void {
  writeSeeds(
    dir,
    Array.from({ length: n }, (_, i) => ({
      ...npmSeedEntry(`io.github.example/server-${i}`, `example-server-${i}`),
      description: `Example server ${i} (${variant}): ${"it reads and writes notes in folders. ".repeat(8)}`,
    })),
  );
}

/** Every file below `dir`, keyed by its path inside it. */
export function siteFiles(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .map((f) => join(dir, f))
      .filter((f) => statSync(f).isFile())
      .map((f) => [f.slice(dir.length), readFileSync(f)]),
  );
}

/**
 * Builds the site at `site` once more and checks it is then byte for byte what a clean build of the same catalog
 * into `clean` makes: the repair a build after a failed or killed one must do.
 */
export async function expectRepairedLikeClean(
  site: string,
  clean: string,
  env: Record<string, string>,
  cwd: string,
): Promise<void> {
  const next = await runCli(["site", "-o", site], { env, cwd, timeoutMs: 120_000 });
  expect(next.code, next.stderr).toBe(0);
  expect((await runCli(["site", "-o", clean], { env, cwd, timeoutMs: 120_000 })).code).toBe(0);
  const [live, want] = [siteFiles(site), siteFiles(clean)];
  expect([...live.keys()].sort()).toEqual([...want.keys()].sort());
  expect([...live].filter(([p, b]) => !b.equals(want.get(p)!)).map(([p]) => p)).toEqual([]);
}
