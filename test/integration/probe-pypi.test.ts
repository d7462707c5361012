import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerEntry } from "../../src/core/types.js";
import { type ProbeOptions, parseTarget, probe } from "../../src/mcp/index.js";
import { launcherArgsDropped, pypiCacheDirFor } from "../../src/mcp/pypi-install.js";
import { probeStage } from "../../src/pipeline/stages.js";
import { SERVERS_DIR } from "../fixtures/servers/helpers.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

// PyPI is not reachable from the test machines: the distributions are built by hand into a folder (wheels with
// zipfile, an sdist with tarfile) and installed with the index off, exactly as a private wheel mirror would be.
const tmp = tempDir("mcp-census-pypi-");
const dists = join(tmp.dir, "dists");
const sdistMarker = join(tmp.dir, "setup-py-ran");
const secretFile = join(tmp.dir, "secret.env");
let listener: Server;
let port = 0;

const base = (): ProbeOptions => ({
  cacheDir: join(tmp.dir, "cache"),
  timeoutMs: 30_000,
  installTimeoutMs: 120_000,
  allowInstallScripts: false,
  allowUnsandboxed: false,
  allowPrivateNetwork: false,
  memoryLimitMb: 1024,
  pypiIndexUrl: "none",
  pypiFindLinks: [dists],
  env: { FIXTURE_PORT: String(port), FIXTURE_SECRET_FILE: secretFile },
});

beforeAll(async () => {
  const made = spawnSync("python3", [join(SERVERS_DIR, "pypi", "make_dists.py"), dists, sdistMarker], {
    encoding: "utf8",
  });
  if (made.status !== 0) throw new Error(`building the test distributions failed: ${made.stderr}`);
  writeFileSync(secretFile, "TOKEN=not-for-servers\n");
  // A port on the host's loopback the sandboxed server must not reach.
  listener = createServer((s) => s.end());
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  port = (listener.address() as { port: number }).port;
});

afterAll(() => {
  listener?.close();
  tmp.cleanup();
});

describe("PyPI servers launch from their own virtual environment, sandboxed", () => {
  it("installs a wheel and its dependency with the index off, lists the tools, and shows the sandbox held", async () => {
    const r = await probe(parseTarget("pypi:census-fixture-srv@0.3.1"), base());
    expect(r.outcome, r.error).toBe("ok");
    expect(r.tools.map((t) => t.name).sort()).toEqual(["delete_word", "lookup_word"]);
    expect(r.serverInfo?.name).toBe("census-fixture-srv");
    const said = String(r.tools.find((t) => t.name === "lookup_word")?.description);
    // The dependency came from the same folder; the server ran in its venv, in the sandbox: no host loopback, no
    // file from outside, an empty HOME as working folder.
    expect(said).toContain("alpha, beta");
    expect(said).toContain("venv=True");
    expect(said).toContain("net=blocked");
    expect(said).toContain("secret=hidden");
    expect(said).toContain("cwd=");
    expect(r.launch.sandbox).toBe("bwrap");
    expect(r.launch.package).toBe("census-fixture-srv==0.3.1");
    expect(r.launch.script).toBe("census-fixture-srv");
    expect(["pip", "uv"]).toContain(r.launch.installer); // uv when on PATH (not on the test machines)
    expect(r.launch.fromCache).toBe(false);
    // It exited asking for its key: retried with a placeholder, as for npm servers.
    expect(r.placeholders).toContain("FIXTURE_API_KEY");
    expect(r.launch.attempts).toEqual([
      {
        outcome: "crashed",
        env: ["FIXTURE_API_KEY"],
        because: "Error: FIXTURE_API_KEY environment variable is not set",
      },
    ]);
    const venv = pypiCacheDirFor(join(tmp.dir, "cache"), "census-fixture-srv", "0.3.1");
    expect(existsSync(join(venv, "bin", "census-fixture-srv"))).toBe(true);
    // No install folder left half-made beside it.
    expect(readdirSync(join(tmp.dir, "cache", "pypi")).filter((d) => d.startsWith(".tmp-"))).toEqual([]);
  });

  it("the second probe reuses the environment, and a user's own -e value beats the placeholder", async () => {
    const r = await probe(parseTarget("pypi:census-fixture-srv==0.3.1"), {
      ...base(),
      env: { ...base().env, FIXTURE_API_KEY: "given-by-user" },
    });
    expect(r.outcome, r.error).toBe("ok");
    expect(r.launch.fromCache).toBe(true);
    expect(r.launch.attempts).toBeUndefined();
    expect((r.launch.env as Record<string, string>).FIXTURE_API_KEY).toBe("<given>");
  });

  it("a registry entry (official format, uvx options in its arguments) is probed through the probe stage", async () => {
    const entry: ServerEntry = {
      name: "io.example/census-fixture",
      packages: [
        {
          registryType: "pypi",
          identifier: "census-fixture-srv",
          version: "0.3.1",
          transport: { type: "stdio" },
          packageArguments: [
            { type: "named", name: "--from", value: "census-fixture-srv" },
            { type: "positional", value: "census-fixture-srv" },
            { type: "named", name: "--mode", value: "fast" },
          ],
          environmentVariables: [{ name: "FIXTURE_API_KEY", isSecret: true, isRequired: true }],
        },
      ],
      remotes: [],
    };
    const { env: _env, ...opts } = base();
    const r = await probeStage(entry, opts);
    expect(r.outcome, r.error).toBe("ok");
    expect(r.launch.attempts).toBeUndefined();
    expect(r.placeholders).toEqual(["FIXTURE_API_KEY"]);
    expect(String(r.tools[0]?.description)).toContain('argv=["--mode", "fast"]');
    expect(r.launch.ignoredLauncherArguments).toEqual(["--from", "census-fixture-srv", "census-fixture-srv"]);
  });

  it("a source distribution is never built (its setup.py would run): install_failed, and nothing ran", async () => {
    const r = await probe(parseTarget("pypi:census-fixture-sdist==1.0"), base());
    expect(r.outcome).toBe("install_failed");
    expect(r.error).toMatch(/pip install census-fixture-sdist==1\.0 failed/);
    expect(existsSync(sdistMarker)).toBe(false);
  });

  it("a package without a console script fails once and is remembered, not reinstalled", async () => {
    const first = await probe(parseTarget("pypi:census-fixture-noscript==1.0"), base());
    expect(first.outcome).toBe("install_failed");
    expect(first.error).toContain("has no console script to run");
    const again = await probe(parseTarget("pypi:census-fixture-noscript==1.0"), base());
    expect(again.outcome).toBe("install_failed");
    expect(again.error).toContain("remembered from an earlier attempt");
    expect(again.timings.installMs ?? 0).toBeLessThan(first.timings.installMs ?? 0);
  });

  it("rejects names and versions that are not a plain project and an exact pin", async () => {
    expect(() => parseTarget("pypi:--index-url=http://10.0.0.1/")).toThrow(/not a valid PyPI project name/);
    const r = await probe(parseTarget("pypi:census-fixture-srv@>=0.1"), base());
    expect(r.outcome).toBe("install_failed");
    expect(r.error).toMatch(/not an exact PyPI version/);
  });

  it("the CLI probes a PyPI target with the index settings from the environment", async () => {
    const data = join(tmp.dir, "cli-data");
    const r = await runCli(
      ["probe", "pypi:census-fixture-srv@0.3.1", "--no-store", "--json", "-e", "FIXTURE_API_KEY=x"],
      {
        env: {
          MCP_CENSUS_DATA_DIR: data,
          MCP_CENSUS_PYPI_INDEX_URL: "none",
          MCP_CENSUS_PYPI_FIND_LINKS: dists,
        },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { outcome: string; tools: { name: string }[] };
    expect(out.outcome).toBe("ok");
    expect(out.tools.map((t) => t.name).sort()).toEqual(["delete_word", "lookup_word"]);
  });
});

describe("launcher arguments copied from uvx", () => {
  it("drops --from/--with/--directory with their values and a leading script name, keeps the rest", () => {
    expect(
      launcherArgsDropped(["--directory", "/x", "--with=foo", "my_srv", "--port", "3"], ["my-srv", "my-srv"]),
    ).toEqual({ args: ["--port", "3"], dropped: ["--directory", "/x", "--with=foo", "my_srv"] });
    expect(launcherArgsDropped(["run", "my-srv"], ["my-srv"]).args).toEqual(["run", "my-srv"]);
  });
});

describe("without Python", () => {
  it("a PyPI target is unsupported_runtime (so an entry's other launch choices are tried), not install_failed", async () => {
    const r = await probe(parseTarget("pypi:census-fixture-srv@0.3.1"), {
      ...base(),
      cacheDir: join(tmp.dir, "cache-nopython"),
      python: join(tmp.dir, "no-such-python"),
    });
    expect(r.outcome).toBe("unsupported_runtime");
    expect(r.error).toMatch(/cannot run .*no-such-python/);
  });
});
