import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runProcess } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

// The package as a user gets it: `npm pack` (prepack builds dist/), then a global install of the tarball into a
// temporary prefix (production dependencies only; better-sqlite3 compiles from source here), then the installed
// `mcp-census` run from an empty folder. Installed once for the whole file: it is the slow part.

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

let tmp: ReturnType<typeof tempDir>;
let packed: { filename: string; files: { path: string }[] };
let bin: string;
let work: string;

/** The installed command, run from `work` with a clean environment (no config, no seeds, no LLM). */
function mcpCensus(args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  return runProcess(bin, args, {
    cwd: work,
    env: { PATH: process.env.PATH ?? "", HOME: tmp.dir, MCP_CENSUS_LOG_LEVEL: "warn", ...opts.env },
    input: opts.input,
    timeoutMs: 240_000,
  });
}

beforeAll(async () => {
  tmp = tempDir("mcp-census-package-");
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", tmp.dir], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  // npm pack prints the prepack build's output before its JSON.
  packed = (JSON.parse(stdout.slice(stdout.indexOf("\n[") + 1)) as (typeof packed)[])[0]!;
  const prefix = join(tmp.dir, "prefix");
  await run(
    "npm",
    ["install", "-g", "--prefix", prefix, "--omit=dev", "--no-audit", "--no-fund", join(tmp.dir, packed.filename)],
    { cwd: tmp.dir, maxBuffer: 64 * 1024 * 1024 },
  );
  bin = join(prefix, "bin", "mcp-census");
  work = join(tmp.dir, "empty");
  mkdirSync(work);
}, 1_800_000);
afterAll(() => tmp?.cleanup());

describe("the npm package", () => {
  it("ships the compiled code, migrations, site assets and seeds, and no tests, scripts or TypeScript", () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain("bin/mcp-census.js");
    expect(paths).toContain("dist/src/cli/main.js");
    expect(paths).toContain("dist/src/site/render-worker.js");
    expect(paths).toContain("dist/src/site/file-writer.mjs");
    expect(paths).toContain("dist/src/site/assets/site.css");
    expect(paths).toContain("dist/src/store/migrations/meta/_journal.json");
    expect(paths.some((p) => /^dist\/src\/store\/migrations\/0000_.*\.sql$/.test(p))).toBe(true);
    expect(paths).toContain("data/seeds/servers.json");
    for (const p of paths) {
      expect(p, p).toMatch(/^(bin|dist|data\/seeds|schemas)\/|^(package\.json|README\.md|LICENSE)$/);
      expect(p, p).not.toMatch(/(^|\/)(test|scripts)\//);
      expect(p, p).not.toMatch(/\.ts$/);
    }
    // The TypeScript worker shim (it imports tsx, a devDependency) stays out of the package.
    expect(paths).not.toContain("dist/src/site/render-worker.mjs");
  });

  it("installs production dependencies only: no type packages or build tools", () => {
    const modules = join(tmp.dir, "prefix", "lib", "node_modules", "mcp-census", "node_modules");
    expect(existsSync(join(modules, "semver"))).toBe(true);
    for (const dev of ["@types/semver", "@types/node", "typescript", "tsx", "vitest"])
      expect(existsSync(join(modules, dev)), dev).toBe(false);
  });

  it("prints package.json's version", async () => {
    const r = await mcpCensus(["--version"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it("classifies a JSONL line", async () => {
    const tool = {
      server: "files",
      name: "delete_file",
      description: "Permanently delete a file from disk.",
      inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    };
    const r = await mcpCensus(["classify", "--no-llm"], { input: `${JSON.stringify(tool)}\n` });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out).toMatchObject({ tool: "delete_file", destructive: true, category: "Destructive", risk: "critical" });
  });

  it("crawls from an empty folder with the bundled seeds, then serves the catalog and stops on SIGTERM", async () => {
    // One real published server from devDependencies, resolved from node_modules rather than installed.
    const env = { MCP_CENSUS_RESOLVE_FROM: join(ROOT, "node_modules") };
    const name = "io.github.modelcontextprotocol/server-memory";
    const r = await mcpCensus(["crawl", "--only", name, "--no-outputs"], { env });
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(work, "data", "catalog.db"))).toBe(true);
    const seeds = JSON.parse(readFileSync(join(ROOT, "data", "seeds", "servers.json"), "utf8")) as unknown[];
    const stats = await mcpCensus(["stats", "--json"]);
    expect(stats.code).toBe(0);
    const s = JSON.parse(stats.stdout);
    expect(s.servers).toBe(seeds.length);
    expect(s.probeOutcomes).toEqual({ ok: 1 });
    expect(s.tools).toBeGreaterThanOrEqual(9); // the memory server's knowledge-graph tools
    expect(s.unclassified).toBe(0);

    // Render workers are on by default for big builds: the installed package's compiled worker must start (a
    // checkout runs the .mjs shim through tsx instead, so only this test reaches the shipped render-worker.js).
    const siteDir = join(work, "site-workers");
    const site = await mcpCensus(["site", "--workers", "1", "--out", siteDir, "--json"]);
    expect(site.stderr).toBe("");
    expect(site.code).toBe(0);
    expect(JSON.parse(site.stdout)).toMatchObject({ serversRendered: seeds.length });
    const memory = readdirSync(join(siteDir, "servers")).filter((d) => d.endsWith("server-memory"));
    expect(memory).toHaveLength(1);
    expect(readFileSync(join(siteDir, "servers", memory[0] as string, "index.html"), "utf8")).toContain(
      "create_entities",
    );

    // The installed command is the process itself (no wrapper process), so SIGTERM reaches the server.
    const child: ChildProcess = spawn(bin, ["serve", "--port", "0"], {
      cwd: work,
      env: { PATH: process.env.PATH ?? "", HOME: tmp.dir, MCP_CENSUS_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (d) => {
        out += d;
        const m = /at (http:\/\/\S+)\/v1/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.on("exit", () => reject(new Error(`serve exited early: ${out}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const end = await exited;
    clearTimeout(timer);
    expect(end).toEqual({ code: 0, signal: null });
  }, 300_000);
});
