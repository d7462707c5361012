import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProbeOptions, parseTarget, probe } from "../../src/mcp/index.js";
import { SERVERS_DIR } from "../fixtures/servers/helpers.js";
import { tempDir } from "../helpers/tmp.js";

// GitHub is not reachable from the test machines: the repository is a local bare one, made here with real git.
const tmp = tempDir("mcp-census-git-");
const bare = join(tmp.dir, "fixture.git");
const outside = join(tmp.dir, "outside-the-checkout.txt");
const postinstallMarker = join(tmp.dir, "postinstall-ran");
let listener: Server;

const opts = (): ProbeOptions => ({
  cacheDir: join(tmp.dir, "cache"),
  timeoutMs: 30_000,
  installTimeoutMs: 120_000,
  allowInstallScripts: false,
  allowUnsandboxed: false,
  allowPrivateNetwork: false,
  memoryLimitMb: 1024,
});

const sh = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { cwd, stdio: "pipe" });

beforeAll(async () => {
  listener = createServer((s) => s.end());
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  const port = (listener.address() as { port: number }).port;
  const work = join(tmp.dir, "work");
  cpSync(join(SERVERS_DIR, "git-repo"), work, { recursive: true });
  writeFileSync(join(work, "build-config.json"), JSON.stringify({ port, outside }));
  // A local dependency with an install script: npm installs it (offline, file:) with scripts off.
  mkdirSync(join(work, "helper"));
  writeFileSync(
    join(work, "helper", "package.json"),
    JSON.stringify({
      name: "census-git-helper",
      version: "1.0.0",
      type: "module",
      main: "index.js",
      scripts: { postinstall: `node -e "require('fs').writeFileSync('${postinstallMarker}', 'ran')"` },
    }),
  );
  writeFileSync(join(work, "helper", "index.js"), "export const WORDS = ['alpha', 'beta'];\n");
  writeFileSync(
    join(work, "package.json"),
    JSON.stringify({
      name: "census-git-fixture",
      version: "0.2.0",
      type: "module",
      bin: { "census-git-fixture": "dist/server.js" },
      dependencies: { "census-git-helper": "file:./helper" },
      scripts: {
        build: "node build.js",
        postinstall: `node -e "require('fs').writeFileSync('${postinstallMarker}', 'ran')"`,
      },
    }),
  );
  sh(work, "init", "-q", "-b", "main");
  sh(work, "add", "-A");
  sh(work, "commit", "-q", "-m", "fixture server");
  sh(work, "tag", "v0.2.0");
  sh(tmp.dir, "clone", "-q", "--bare", work, bare);
});

afterAll(() => {
  listener?.close();
  tmp.cleanup();
});

describe("git targets: clone one commit, install with scripts off, build and launch in the sandbox", () => {
  it("lists a server built from a tagged commit of a local bare repository", async () => {
    const r = await probe(parseTarget(`git:file://${bare}#v0.2.0`), opts());
    expect(r.outcome, `${r.error} ${r.stderrTail}`).toBe("ok");
    expect(r.tools.map((t) => t.name)).toEqual(["read_note"]);
    const said = String(r.tools[0]?.description);
    // The dependency was installed; the build ran in the sandbox: no host loopback, nothing written outside.
    expect(said).toContain("(alpha, beta)");
    expect(said).toContain('"net":"blocked"');
    // The build tried to write a file beside the test's folder: inside the sandbox that lands in a throwaway tmpfs.
    expect(existsSync(outside)).toBe(false);
    // Install scripts (the package's and its dependency's) never ran.
    expect(existsSync(postinstallMarker)).toBe(false);
    const commit = execFileSync("git", ["rev-parse", "v0.2.0^{commit}"], { cwd: bare, encoding: "utf8" }).trim();
    expect(r.launch).toMatchObject({
      ref: "v0.2.0",
      commit,
      package: "census-git-fixture@0.2.0",
      build: "ran in the sandbox",
      installScripts: "skipped",
      sandbox: "bwrap",
      fromCache: false,
    });
    const again = await probe(parseTarget(`git:file://${bare}#${commit}`), opts());
    expect(again.outcome, again.error).toBe("ok");
    expect(again.launch.fromCache).toBe(true);
  });

  it("a ref that does not exist, a repository without package.json, and refused URLs are one-line install failures", async () => {
    const missing = await probe(parseTarget(`git:file://${bare}#no-such-branch`), opts());
    expect(missing.outcome).toBe("install_failed");
    expect(missing.error).toMatch(/has no ref no-such-branch/);
    const noPkg = join(tmp.dir, "nopkg");
    mkdirSync(noPkg);
    writeFileSync(join(noPkg, "README"), "not a package\n");
    sh(noPkg, "init", "-q", "-b", "main");
    sh(noPkg, "add", "-A");
    sh(noPkg, "commit", "-q", "-m", "x");
    const r = await probe(parseTarget(`git:file://${noPkg}`), opts());
    expect(r.outcome).toBe("install_failed");
    expect(r.error).toMatch(/no readable package\.json/);
    const priv = await probe(parseTarget("git:https://127.0.0.1/x/y.git"), opts());
    expect(priv.outcome).toBe("install_failed");
    expect(priv.error).toMatch(/refused private address 127\.0\.0\.1/);
    expect(() => parseTarget("git:ssh://example.com/x.git")).toThrow(/https:\/\/ or file:\/\/\//);
    expect(() => parseTarget("git:ext::sh -c touch% /tmp/pwned")).toThrow(/https:\/\/ or file:\/\/\//);
    expect(parseTarget("github:modelcontextprotocol/servers@v1.2")).toEqual({
      kind: "package",
      pkg: { registryType: "git", identifier: "https://github.com/modelcontextprotocol/servers.git", version: "v1.2" },
    });
    expect(() => parseTarget("github:--upload-pack=x/y")).toThrow(/not a GitHub repository/);
  });
});
