import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

// Three real published servers from devDependencies, resolved from node_modules (no network needed).
const SEED = [
  ["io.github.modelcontextprotocol/server-everything", "@modelcontextprotocol/server-everything"],
  ["io.github.modelcontextprotocol/server-memory", "@modelcontextprotocol/server-memory"],
  ["io.github.modelcontextprotocol/server-sequential-thinking", "@modelcontextprotocol/server-sequential-thinking"],
].map(([name, pkg]) => ({
  name,
  description: `${pkg} from the test seed`,
  repository: { url: "https://github.com/modelcontextprotocol/servers", subfolder: `src/${pkg!.split("-").pop()}` },
  version: JSON.parse(readFileSync(join(ROOT, "node_modules", pkg!, "package.json"), "utf8")).version,
  packages: [
    {
      registryType: "npm",
      identifier: pkg,
      version: JSON.parse(readFileSync(join(ROOT, "node_modules", pkg!, "package.json"), "utf8")).version,
      transport: { type: "stdio" },
    },
  ],
}));

/** Exactly one error line (informational progress lines aside) and no stack trace. */
function expectOneErrorLine(stderr: string): void {
  expect(stderr.split("\n").filter((l) => l.startsWith("mcp-census:"))).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
}

let tmp: ReturnType<typeof tempDir>;
let env: Record<string, string>;

beforeAll(() => {
  tmp = tempDir("mcp-census-e2e-");
  mkdirSync(join(tmp.dir, "seeds"));
  writeFileSync(join(tmp.dir, "seeds", "servers.json"), JSON.stringify(SEED, null, 2));
  env = {
    MCP_CENSUS_DATA_DIR: join(tmp.dir, "data"),
    MCP_CENSUS_SEEDS_DIR: join(tmp.dir, "seeds"),
    MCP_CENSUS_RESOLVE_FROM: join(ROOT, "node_modules"),
  };
});
afterAll(() => tmp.cleanup());

describe("mcp-census crawl, end to end on real servers", () => {
  it("lists, classifies and stores every seed server, then writes policies and the site", async () => {
    const r = await runCli(["crawl", "--base-url", "https://census.example/"], { env, timeoutMs: 180_000 });
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack traces
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 servers, 3 probed \(ok 3\)/);

    const stats = await runCli(["stats", "--json"], { env });
    expect(stats.code).toBe(0);
    const s = JSON.parse(stats.stdout);
    expect(s.servers).toBe(3);
    expect(s.probeOutcomes).toEqual({ ok: 3 });
    expect(s.unclassified).toBe(0);
    expect(Object.values(s.byCategory as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(s.tools);

    // The real tool counts: what the servers list themselves (memory has its knowledge-graph tools, etc.).
    const exp = await runCli(["export"], { env });
    const lines = exp.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const counts = Object.fromEntries(lines.map((l) => [l.name, l.tools.length]));
    expect(counts["io.github.modelcontextprotocol/server-memory"]).toBeGreaterThanOrEqual(9);
    expect(counts["io.github.modelcontextprotocol/server-sequential-thinking"]).toBe(1);
    expect(counts["io.github.modelcontextprotocol/server-everything"]).toBeGreaterThanOrEqual(10);
    expect(s.tools).toBe(Object.values(counts).reduce((a: number, b) => a + (b as number), 0));

    const out = join(tmp.dir, "data", "out");
    const policies = readdirSync(join(out, "policies")).filter((f) => f.endsWith(".json"));
    expect(policies).toHaveLength(3);
    expect(existsSync(join(out, "site", "index.html"))).toBe(true);
    // The site a crawl writes links to where it will be served, not to localhost.
    const sitemap = readFileSync(join(out, "site", "sitemap.xml"), "utf8");
    expect(sitemap).toContain("<loc>https://census.example/");
    expect(sitemap).not.toContain("localhost");
    expect(readFileSync(join(out, "site", "feed.xml"), "utf8")).toContain('href="https://census.example/feed.xml"');
  });

  it("a second crawl with nothing changed reports 0 changed and stores no new tool versions", async () => {
    const before = JSON.parse((await runCli(["stats", "--json"], { env })).stdout).toolVersions;
    // --reprobe: relaunch every server, as if its listing could not be reused.
    const r = await runCli(["crawl", "--reprobe", "--base-url", "https://census.example/"], {
      env,
      timeoutMs: 180_000,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 servers, 3 probed \(ok 3\), \d+ tools listed/);
    expect(r.stdout).toMatch(/\b0 changed\b/);
    // Nothing changed, so no page is rewritten (a crawl used to rewrite every page).
    expect(r.stdout).toMatch(/site: 0 pages written/);
    expect(r.stdout).toMatch(/\b0 new tool versions\b/);
    const after = JSON.parse((await runCli(["stats", "--json"], { env })).stdout).toolVersions;
    expect(after).toBe(before);
  });

  it("a crawl reuses unchanged pinned listings, and relaunches a server whose launch changed or whose listing is old", async () => {
    const first = await runCli(["crawl", "--json", "--no-outputs"], { env, timeoutMs: 180_000 });
    expect(first.code, first.stderr).toBe(0);
    const s1 = JSON.parse(first.stdout);
    expect(s1.probed).toBe(0);
    expect(s1.reused).toBe(3);
    const stats = JSON.parse((await runCli(["stats", "--json"], { env })).stdout);
    expect(s1.tools).toBe(stats.tools);

    // One entry now declares an environment variable: its launch changed, so only it is relaunched.
    const changed = join(tmp.dir, "seeds-changed");
    mkdirSync(changed, { recursive: true });
    const seed = structuredClone(SEED);
    (seed[1]!.packages[0] as Record<string, unknown>).environmentVariables = [{ name: "MEMORY_FILE_PATH" }];
    writeFileSync(join(changed, "servers.json"), JSON.stringify(seed, null, 2));
    const second = await runCli(["crawl", "--json", "--no-outputs"], {
      env: { ...env, MCP_CENSUS_SEEDS_DIR: changed },
      timeoutMs: 180_000,
    });
    const s2 = JSON.parse(second.stdout);
    expect(s2.probed).toBe(1);
    expect(s2.reused).toBe(2);
    expect(s2.outcomes).toEqual({ ok: 1 });

    // A listing older than reprobeAfterHours is not reused.
    const third = await runCli(["crawl", "--json", "--no-outputs"], {
      env: { ...env, MCP_CENSUS_SEEDS_DIR: changed, MCP_CENSUS_REPROBE_AFTER_HOURS: "0.00001" },
      timeoutMs: 180_000,
    });
    const s3 = JSON.parse(third.stdout);
    expect(s3.probed).toBe(3);
    expect(s3.reused ?? 0).toBe(0);
  });

  it("a seed file with invalid JSON gives one clear line, a non-zero exit, and leaves the catalog readable", async () => {
    const bad = tempDir("mcp-census-badseed-");
    try {
      writeFileSync(join(bad.dir, "servers.json"), '[{"name": "io.x/y",, }]');
      const before = (await runCli(["stats", "--json"], { env })).stdout;
      const r = await runCli(["crawl"], { env: { ...env, MCP_CENSUS_SEEDS_DIR: bad.dir } });
      expect(r.code).toBe(2);
      expectOneErrorLine(r.stderr);
      expect(r.stderr).toMatch(/servers\.json.*JSON/i);
      const after = (await runCli(["stats", "--json"], { env })).stdout;
      expect(after).toBe(before);
    } finally {
      bad.cleanup();
    }
  });

  it("a seed entry of the wrong shape is reported and the other entries are still used", async () => {
    const mixed = tempDir("mcp-census-mixedseed-");
    try {
      writeFileSync(join(mixed.dir, "servers.json"), JSON.stringify([{ description: "no name" }, SEED[1]]));
      const r = await runCli(["crawl", "--no-probe", "--no-outputs"], {
        env: { ...env, MCP_CENSUS_SEEDS_DIR: mixed.dir },
      });
      expect(r.stderr + r.stdout).toMatch(/servers\.json.*(entry|index|\[0\])/i);
      const s = JSON.parse((await runCli(["stats", "--json"], { env })).stdout);
      expect(s.servers).toBeGreaterThanOrEqual(1);
    } finally {
      mixed.cleanup();
    }
  });

  it("an unknown server name for probe gives one line and exit 3", async () => {
    const r = await runCli(["probe", "no-such-server-anywhere"], { env });
    expect(r.code).toBe(3);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).toMatch(/no server named "no-such-server-anywhere"/);
  });

  it("an unwritable data directory gives one line and exit 4", async () => {
    const file = join(tmp.dir, "a-file");
    writeFileSync(file, "x");
    const r = await runCli(["crawl", "--no-probe"], { env: { ...env, MCP_CENSUS_DATA_DIR: join(file, "data") } });
    expect(r.code).toBe(4);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).toMatch(/not writable/);
  });

  it("a corrupted database file gives one line and exit 4, and is left untouched", async () => {
    const db = join(tmp.dir, "corrupt.db");
    writeFileSync(db, "garbage ".repeat(1000));
    const r = await runCli(["stats"], { env: { ...env, MCP_CENSUS_DB: db } });
    expect(r.code).toBe(4);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).toMatch(/not a valid SQLite database/);
    expect(readFileSync(db, "utf8")).toBe("garbage ".repeat(1000));
    const c = await runCli(["crawl", "--no-probe"], { env: { ...env, MCP_CENSUS_DB: db } });
    expect(c.code).toBe(4);
    expect(readFileSync(db, "utf8")).toBe("garbage ".repeat(1000));
  });
});
