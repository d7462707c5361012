import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ProbeOptions, probe } from "../../src/mcp/index.js";
import { PKGS_DIR } from "../fixtures/servers/helpers.js";

// The Node.js fetched from the npm registry (~30 MB) lands in the install cache every probe test shares, so a machine
// downloads it once.
const base: ProbeOptions = {
  cacheDir: join(tmpdir(), "mcp-census-test-cache"),
  timeoutMs: 30_000,
  installTimeoutMs: 300_000,
  allowInstallScripts: false,
  allowUnsandboxed: false,
  allowPrivateNetwork: false,
  memoryLimitMb: 1024,
  resolveFrom: [PKGS_DIR],
};
const target = (identifier: string) => ({ kind: "package", pkg: { registryType: "npm", identifier } }) as const;
const hostMajor = Number(process.versions.node.split(".")[0]);

describe.skipIf(hostMajor >= 22)("a server that needs a newer Node.js than ours", () => {
  it("runs with the Node.js its engines.node asks for, fetched from npm, inside the sandbox", async () => {
    const r = await probe(target("new-node-mcp"), base);
    expect(r.outcome, r.error).toBe("ok");
    expect(r.launch.sandbox).toBe("bwrap");
    const runtime = r.launch.runtime as { node: string; source: string };
    expect(runtime.node).toMatch(/^22\./);
    expect(runtime.source).toBe(`npm:node-${process.platform}-${process.arch}@${runtime.node}`);
    // The server itself and a `node` it starts from PATH both run the fetched Node.js, not ours.
    expect(r.tools[0]?.description).toBe(`node=v${runtime.node} child=v${runtime.node}`);
    expect(r.launch.attempts).toBeUndefined();
  }, 300_000);

  it("fetches it when the server only says so as it exits (no engines.node)", async () => {
    const r = await probe(target("says-new-node-mcp"), base);
    expect(r.outcome, r.error).toBe("ok");
    expect((r.launch.runtime as { node: string }).node).toMatch(/^22\./);
    expect(r.tools[0]?.description).toMatch(/^node=v22\./);
  }, 300_000);

  it("with fetchNodeRuntime off, runs ours and records unsupported_runtime with the reason", async () => {
    for (const name of ["new-node-mcp", "says-new-node-mcp"]) {
      const r = await probe(target(name), { ...base, fetchNodeRuntime: false });
      expect(r.outcome).toBe("unsupported_runtime");
      expect(r.error).toMatch(/needs Node\.js 22 or later .*fetchNodeRuntime is off/);
      expect(r.launch.runtime).toEqual({ node: process.versions.node, source: "host" });
      expect(r.launch.needs).toEqual({ node: 22 });
    }
  });

  it("when the npm registry cannot be reached, says so and runs nothing but ours", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "mcp-census-offline-runtime-"));
    const saved = { registry: process.env.npm_config_registry, retries: process.env.npm_config_fetch_retries };
    process.env.npm_config_registry = "http://127.0.0.1:9/";
    process.env.npm_config_fetch_retries = "0";
    try {
      const r = await probe(target("new-node-mcp"), { ...base, cacheDir });
      expect(r.outcome).toBe("unsupported_runtime");
      expect(r.error).toMatch(/needs Node\.js 22 or later .*; fetching Node\.js 22 from the npm registry failed: /);
      expect(r.launch.runtime).toEqual({ node: process.versions.node, source: "host" });
      expect(r.warnings.join("\n")).toMatch(
        /engines\.node ">=22" asks for Node\.js 22: fetching .* failed.*; ran with ours/,
      );
    } finally {
      for (const [k, v] of [
        ["npm_config_registry", saved.registry],
        ["npm_config_fetch_retries", saved.retries],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }, 120_000);
});
