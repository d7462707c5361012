import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";
import { loopback, officialHandler, officialSeed, wrapOfficial } from "../integration/registries-helpers.js";

// The "done when": `crawl --source <id> --registry-url http://127.0.0.1:PORT --no-probe` fills the catalog
// from a replay of real registry data, through the real CLI, making no connection to any server.
let tmp: ReturnType<typeof tempDir>;
let registry: Awaited<ReturnType<typeof loopback>>;
const items = officialSeed().map((s) => wrapOfficial(s));

beforeAll(async () => {
  tmp = tempDir("mcp-census-cli-registry-");
  registry = await loopback(officialHandler(items));
});
afterAll(async () => {
  await registry.close();
  tmp.cleanup();
});

describe("mcp-census crawl --source official --registry-url … --no-probe", () => {
  it("discovers and merges the replayed registry without probing anything", async () => {
    const env = { MCP_CENSUS_DATA_DIR: tmp.dir };
    const r = await runCli(
      ["crawl", "--source", "official", "--registry-url", registry.base, "--no-probe", "--no-outputs", "--json"],
      { env },
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.probed).toBe(0);
    expect(summary.sources.official.complete).toBe(true);
    expect(summary.sources.official.entries).toBe(items.length);
    // Every request went to the registry's list endpoint, paged 100 at a time.
    expect(registry.requests.every((q) => q.url.pathname === "/v0.1/servers")).toBe(true);
    expect(registry.requests.length).toBe(Math.ceil(items.length / 100));
    const stats = JSON.parse((await runCli(["stats", "--json"], { env })).stdout);
    // Two real entries publish the same npm package: they are one server.
    expect(stats.servers).toBe(items.length - 1);
    expect(stats.serversBySource).toEqual({ official: items.length - 1 });
    expect(stats.probeOutcomes).toEqual({});
  });

  it("a second source listing the same servers attaches to them instead of duplicating", async () => {
    const env = { MCP_CENSUS_DATA_DIR: tmp.dir };
    const seeds = tempDir("mcp-census-cli-registry-seed-");
    try {
      const { writeFileSync } = await import("node:fs");
      const { join } = await import("node:path");
      writeFileSync(join(seeds.dir, "a.json"), JSON.stringify(items.slice(0, 20).map((i) => i.server)));
      const r = await runCli(
        ["crawl", "--source", "seed", "--registry-path", seeds.dir, "--no-probe", "--no-outputs"],
        {
          env,
        },
      );
      expect(r.code).toBe(0);
      const stats = JSON.parse((await runCli(["stats", "--json"], { env })).stdout);
      expect(stats.servers).toBe(items.length - 1);
      expect(stats.serversBySource.seed).toBeGreaterThanOrEqual(19);
    } finally {
      seeds.cleanup();
    }
  });
});
