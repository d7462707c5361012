/**
 * Issue 17 item 11, the file-handling attacks, through the real CLI on real files:
 * - a seed nested 20,000 levels deep gave exit 0 and "Maximum call stack size exceeded" without the file name;
 * - a seed symlinked to a file that is not JSON (/etc/shadow in the attack) had its first bytes quoted in the error;
 * - `mcp-census export | head` printed a 27-line EPIPE stack trace.
 */
import { spawn } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

let t: ReturnType<typeof tempDir>;
beforeAll(() => {
  t = tempDir("mcp-census-badfiles-");
});
afterAll(() => t.cleanup());

function seedDir(name: string): string {
  const dir = join(t.dir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const envFor = (seeds: string, data = join(t.dir, `data-${seeds.split("/").pop()}`)) => ({
  MCP_CENSUS_DATA_DIR: data,
  MCP_CENSUS_SEEDS_DIR: seeds,
});

function expectOneLine(stderr: string): string[] {
  const lines = stderr.split("\n").filter((l) => l.startsWith("mcp-census:"));
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/Maximum call stack/);
  return lines;
}

describe("untrusted files: clear one-line errors that never quote the file (issue 17 item 11)", () => {
  it("a seed nested 20,000 levels deep: non-zero exit naming the file", async () => {
    for (const [name, text] of [
      ["arrays", `${"[".repeat(20_000)}${"]".repeat(20_000)}`],
      ["objects", `[${'{"name":'.repeat(20_000)}1${"}".repeat(20_000)}]`],
    ] as const) {
      const dir = seedDir(`deep-${name}`);
      writeFileSync(join(dir, "servers.json"), text);
      const r = await runCli(["crawl", "--no-probe", "--no-outputs"], { env: envFor(dir), cwd: t.dir });
      expect(r.code).toBe(2);
      const [line] = expectOneLine(r.stderr);
      expect(line).toContain(join(dir, "servers.json"));
      expect(line).toMatch(/nested more than \d+ levels deep/);
    }
  }, 60_000);

  it("a seed symlinked to a file that is not JSON: the error names the file and quotes none of it", async () => {
    const secret = join(t.dir, "shadow");
    writeFileSync(secret, "root:*:20213:0:99999:7:::\ndaemon:*:20213:0:99999:7:::\n");
    const dir = seedDir("symlinked");
    symlinkSync(secret, join(dir, "servers.json"));
    const r = await runCli(["crawl", "--no-probe", "--no-outputs"], { env: envFor(dir), cwd: t.dir });
    expect(r.code).toBe(2);
    const [line] = expectOneLine(r.stderr);
    expect(line).toContain(join(dir, "servers.json"));
    expect(line).toMatch(/invalid JSON at line 1, column 1/);
    expect(r.stderr + r.stdout).not.toMatch(/root|20213|daemon|'r'/);

    // The same file as a config file, a lock file and an overrides file: named, not quoted.
    for (const args of [
      ["-c", secret, "stats"],
      ["verify", "--lock", secret],
      ["policy", "--overrides", secret],
    ]) {
      const c = await runCli(args, { env: envFor(dir), cwd: t.dir });
      expect(c.code, args.join(" ")).not.toBe(0);
      expect(c.stderr + c.stdout, args.join(" ")).not.toMatch(/root|20213|daemon|'r'/);
    }
  }, 60_000);

  it("export | head: the reader closing the pipe ends the export quietly", async () => {
    // Enough servers that the export outlasts the pipe buffer head leaves behind.
    const dir = seedDir("many");
    const entries = Array.from({ length: 3000 }, (_, i) => ({
      name: `io.github.example/server-${i}`,
      description: `Example server number ${i} with a description long enough to fill the pipe. `.repeat(4),
      version: "1.0.0",
      packages: [
        { registryType: "npm", identifier: `example-server-${i}`, version: "1.0.0", transport: { type: "stdio" } },
      ],
    }));
    writeFileSync(join(dir, "servers.json"), JSON.stringify(entries));
    const env = envFor(dir);
    const crawl = await runCli(["crawl", "--no-probe", "--no-outputs"], { env, cwd: t.dir });
    expect(crawl.code).toBe(0);

    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        "sh",
        [
          "-c",
          `"${process.execPath}" "${join(ROOT, "bin", "mcp-census.js")}" export 2>"${join(t.dir, "export.err")}" | head -n 2; cat "${join(t.dir, "export.err")}" >&2`,
        ],
        { cwd: t.dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.stdout.trim().split("\n")).toHaveLength(2);
    expect(r.stderr).toBe("");
  }, 60_000);
});
