import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterEach, describe, expect, it } from "vitest";
import { PLACEHOLDER_SECRET, type ProbeOptions, probe } from "../../src/mcp/index.js";
import { setBwrapPath } from "../../src/mcp/sandbox.js";
import { PKGS_DIR, PROJECT_NODE_MODULES, processesWith } from "../fixtures/servers/helpers.js";

const base: ProbeOptions = {
  cacheDir: join(tmpdir(), "mcp-census-test-cache"),
  timeoutMs: 30_000,
  installTimeoutMs: 60_000,
  allowInstallScripts: false,
  allowUnsandboxed: false,
  allowPrivateNetwork: false,
  memoryLimitMb: 1024,
  resolveFrom: [PROJECT_NODE_MODULES],
};

/** What the SDK's own client lists for the same server, launched directly (unsandboxed) as a reference. */
async function sdkToolNames(pkg: string, bin: string): Promise<string[]> {
  const client = new Client({ name: "reference", version: "0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(PROJECT_NODE_MODULES, pkg, bin)],
    stderr: "ignore",
  });
  await client.connect(transport);
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor);
  await client.close();
  return names;
}

describe("published servers from devDependencies, sandboxed", () => {
  const servers = [
    ["@modelcontextprotocol/server-everything", "dist/index.js"],
    ["@modelcontextprotocol/server-memory", "dist/index.js"],
    ["@modelcontextprotocol/server-sequential-thinking", "dist/index.js"],
  ] as const;
  for (const [pkg, bin] of servers) {
    it(`lists ${pkg} exactly as the SDK client does`, async () => {
      const r = await probe({ kind: "package", pkg: { registryType: "npm", identifier: pkg } }, base);
      expect(r.outcome, r.error).toBe("ok");
      expect(r.launch.sandbox).toBe("bwrap");
      expect(r.launch.fromCache).toBe(true);
      expect(r.serverInfo?.name).toBeTruthy();
      expect(r.protocolVersion).toBe("2025-11-25");
      const reference = await sdkToolNames(pkg, bin);
      expect(reference.length).toBeGreaterThan(0);
      expect(r.tools.map((t) => t.name)).toEqual(reference);
      for (const t of r.tools) expect(t.inputSchema).toMatchObject({ type: "object" });
      expect(r.timings.initializeMs).toBeGreaterThan(0);
      expect(processesWith(join(PROJECT_NODE_MODULES, pkg))).toEqual([]);
    });
  }

  it("records server-everything's prompts, resources and resource templates", async () => {
    const r = await probe(
      { kind: "package", pkg: { registryType: "npm", identifier: "@modelcontextprotocol/server-everything" } },
      base,
    );
    expect(r.capabilities).toHaveProperty("tools");
    expect(r.prompts.length).toBeGreaterThan(0);
    expect(r.resources.length).toBeGreaterThan(0);
    expect(r.resourceTemplates.length).toBeGreaterThan(0);
  });
});

describe("npm packages and their launch line", () => {
  const local = { ...base, resolveFrom: [PKGS_DIR] };

  it("launches a package with install scripts without running them", async () => {
    const r = await probe({ kind: "package", pkg: { registryType: "npm", identifier: "needs-scripts" } }, local);
    expect(r.outcome, r.error).toBe("ok");
    expect(r.tools.map((t) => t.name)).toEqual(["hello"]);
    expect(r.launch.installScripts).toBe("skipped");
  });

  it("turns a native module that was never built into install_failed when scripts are off", async () => {
    const r = await probe({ kind: "package", pkg: { registryType: "npm", identifier: "native-addon" } }, local);
    expect(r.outcome).toBe("install_failed");
    expect(r.error).toMatch(/native module was not built.*addon\.node.*allowInstallScripts is off/);
  });

  it("with allowInstallScripts, builds a missing native module inside the sandbox, then lists", async () => {
    const root = mkdtempSync(join(tmpdir(), "mcp-census-native-"));
    try {
      const nm = join(root, "node_modules");
      cpSync(join(PKGS_DIR, "native-built"), join(nm, "native-built"), { recursive: true });
      const target = { kind: "package", pkg: { registryType: "npm", identifier: "native-built" } } as const;
      const off = await probe(target, { ...base, resolveFrom: [nm] });
      expect(off.outcome).toBe("install_failed");
      const r = await probe(target, { ...base, resolveFrom: [nm], allowInstallScripts: true });
      expect(r.outcome, r.error).toBe("ok");
      expect(r.launch.installScripts).toBe("ran in the sandbox");
      // The build ran with no network and could write nothing outside the package's own folder.
      expect(r.tools[0]?.description).toBe("escaped=no network=no");
      expect(existsSync(join(root, "escaped.txt"))).toBe(false);
      expect(existsSync(join(nm, "native-built", "build", "Release", "addon.js"))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("gives required secrets a placeholder and builds arguments from the registry entry", async () => {
    const r = await probe(
      {
        kind: "package",
        pkg: {
          registryType: "npm",
          identifier: "acme-mcp",
          version: "2.0.0",
          runtimeHint: "npx",
          runtimeArguments: [{ type: "positional", value: "-y" }],
          packageArguments: [
            { type: "named", name: "--mode", value: "stdio" },
            { type: "positional", valueHint: "workspace", isRequired: true },
            { type: "named", name: "--optional" },
          ],
          environmentVariables: [
            { name: "ACME_API_KEY", isRequired: true, isSecret: true },
            { name: "ACME_REGION", default: "eu" },
          ],
        },
      },
      local,
    );
    expect(r.outcome, r.error).toBe("ok");
    expect(r.placeholders.sort()).toEqual(["ACME_API_KEY", "workspace"]);
    expect(r.tools[0]?.description).toBe('argv=["--mode","stdio","mcp-census-placeholder"] region=eu');
    expect(r.launch.bin).toBe("acme-mcp");
    expect(r.launch.env).toEqual({ ACME_API_KEY: "<placeholder>", ACME_REGION: "eu" });
    expect(r.launch.ignoredRuntimeArguments).toEqual(["-y"]);
    expect(JSON.stringify(r.launch)).not.toContain(PLACEHOLDER_SECRET);
  });

  it("without the registry's declaration, the key the server asks for on stderr gets a placeholder", async () => {
    const r = await probe({ kind: "package", pkg: { registryType: "npm", identifier: "acme-mcp" } }, local);
    expect(r.outcome, r.error).toBe("ok");
    expect(r.placeholders).toEqual(["ACME_API_KEY"]);
    expect(r.launch.attempts).toEqual([
      { outcome: "crashed", env: ["ACME_API_KEY"], because: "Error: ACME_API_KEY environment variable is required" },
    ]);
  });

  it("honours -e for npm targets and `--` arguments instead of the registry's", async () => {
    const r = await probe(
      {
        kind: "package",
        pkg: {
          registryType: "npm",
          identifier: "acme-mcp",
          packageArguments: [{ type: "named", name: "--mode", value: "stdio" }],
        },
      },
      { ...local, env: { ACME_API_KEY: "user-key", ACME_REGION: "us" }, args: ["--given"] },
    );
    expect(r.outcome, r.error).toBe("ok");
    expect(r.tools[0]?.description).toBe('argv=["--given"] region=us');
    expect(r.placeholders).toEqual([]);
    expect(r.launch.env).toEqual({ ACME_API_KEY: "<given>", ACME_REGION: "<given>" });
    expect(JSON.stringify(r.launch)).not.toContain("user-key");
  });

  it("says which runtime is missing for PyPI, OCI and mcpb packages", async () => {
    // PyPI packages launch (test/integration/probe-pypi.test.ts) when there is a Python to make environments with.
    const pypi = await probe(
      { kind: "package", pkg: { registryType: "pypi", identifier: "mcp-server-fetch", version: "1.0" } },
      { ...base, python: "/nonexistent/python3" },
    );
    expect(pypi.outcome).toBe("unsupported_runtime");
    expect(pypi.error).toMatch(/cannot run \/nonexistent\/python3/);
    const oci = await probe({ kind: "package", pkg: { registryType: "oci", identifier: "ghcr.io/acme/mcp:1" } }, base);
    expect(oci.outcome).toBe("unsupported_runtime");
    expect(oci.error).toMatch(/docker|podman/);
    const mcpb = await probe({ kind: "package", pkg: { registryType: "mcpb", identifier: "https://x/y.mcpb" } }, base);
    expect(mcpb.outcome).toBe("unsupported_runtime");
  });
});

describe("a server that exits saying nothing", () => {
  const local = { ...base, resolveFrom: [PKGS_DIR] };
  const hasMariadb = existsSync("/usr/sbin/mariadbd") || existsSync("/usr/sbin/mysqld");

  it("is given the database its package's client names (mysql2): a throwaway MySQL in its sandbox, or needs_service", async () => {
    const r = await probe({ kind: "package", pkg: { registryType: "npm", identifier: "silent-db-mcp" } }, local);
    const because = "exited saying nothing; its package depends on mysql2, a mysql client";
    if (hasMariadb) {
      expect(r.outcome, r.error).toBe("ok");
      expect(r.tools[0]?.description).toMatch(/^mysql=\d+\.\d+/);
      expect(r.launch.services).toEqual(["mysql (throwaway, empty, inside the sandbox)"]);
      expect(r.launch.attempts).toEqual([{ outcome: "crashed", service: "mysql", because }]);
    } else {
      expect(r.outcome).toBe("needs_service");
      expect(r.error).toBe(`needs a running mysql at start: ${because}`);
    }
  });

  it("unsandboxed, starts nothing on the host and says what it needs", async () => {
    const r = await probe(
      { kind: "package", pkg: { registryType: "npm", identifier: "silent-db-mcp" } },
      { ...local, forceUnsandboxed: true, allowUnsandboxed: true },
    );
    // Never a throwaway database on the host, whether or not the machine runs its own MySQL on the default port.
    expect(r.launch.services).toBeUndefined();
    expect(JSON.stringify(r.launch.attempts ?? [])).not.toContain("service");
    if (r.outcome === "ok") {
      // The machine's own MySQL answered the server directly: it listed on the first launch, with no retry.
      expect(r.launch.attempts).toBeUndefined();
      return;
    }
    expect(r.outcome).toBe("needs_service");
    expect(r.error).toMatch(/mysql2, a mysql client/);
  });
});

describe("without bubblewrap", () => {
  afterEach(() => setBwrapPath("bwrap"));

  it("refuses to run (sandbox_unavailable) unless unsandboxed runs are allowed", async () => {
    setBwrapPath("/nonexistent/bwrap");
    const target = {
      kind: "package",
      pkg: { registryType: "npm", identifier: "@modelcontextprotocol/server-memory" },
    } as const;
    const refused = await probe(target, base);
    expect(refused.outcome).toBe("sandbox_unavailable");
    expect(refused.error).toMatch(/not installed/);
    const allowed = await probe(target, { ...base, allowUnsandboxed: true });
    expect(allowed.outcome).toBe("ok");
    expect(allowed.launch.sandbox).toBe("none");
    expect(allowed.warnings.some((w) => w.startsWith("ran without a sandbox"))).toBe(true);
  });
});
