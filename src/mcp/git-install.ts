import { spawn } from "node:child_process";
import { lookup } from "node:dns/promises";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { contentHash } from "../core/hash.js";
import { describeInstalled, InstallError, type InstalledPackage, npmEnv } from "./npm-install.js";
import { baseEnv, SANDBOX_HOME, SANDBOX_TMP, sandboxAvailable, sandboxCommand } from "./sandbox.js";
import { checkUrl, isPrivateAddress } from "./ssrf.js";

/** Where a git target's source lives and which ref to take. */
export interface GitSource {
  url: string;
  ref?: string;
}

/** `github:owner/repo[@ref]` → the repository URL on GitHub (the base is a parameter for mirrors and tests). */
export function githubSource(rest: string, base = "https://github.com/"): GitSource {
  const m = /^([A-Za-z0-9][A-Za-z0-9-]{0,38})\/([A-Za-z0-9._-]{1,100}?)(?:\.git)?(?:[@#]([\w./-]{1,200}))?$/.exec(rest);
  if (!m) throw new InstallError(`not a GitHub repository: ${rest.slice(0, 100)} (use github:owner/repo[@ref])`);
  return { url: `${base.replace(/\/?$/, "/")}${m[1]}/${m[2]}.git`, ...(m[3] ? { ref: m[3] } : {}) };
}

/** `git:<url>[#ref]` → URL and ref; only https and local file URLs (no ssh, no git://, no ext::). */
export function gitSource(rest: string): GitSource {
  const hash = rest.lastIndexOf("#");
  const url = hash > 0 ? rest.slice(0, hash) : rest;
  const ref = hash > 0 ? rest.slice(hash + 1) : undefined;
  if (!/^(https:\/\/|file:\/\/\/)/.test(url)) {
    throw new InstallError(`git target must be an https:// or file:/// URL: ${url.slice(0, 100)}`);
  }
  if (ref !== undefined && !/^[\w./-]{1,200}$/.test(ref)) throw new InstallError(`not a git ref: ${ref.slice(0, 100)}`);
  return { url, ...(ref ? { ref } : {}) };
}

/** Refuses a clone from a private address (unless allowed), checking every address the host resolves to. */
async function checkRemote(url: string, allowPrivate: boolean): Promise<void> {
  if (url.startsWith("file:///")) return; // the user's own folder, named on the command line
  let u: URL;
  try {
    u = checkUrl(url, allowPrivate);
  } catch (err) {
    throw new InstallError(`git clone refused: ${(err as Error).message}`);
  }
  if (allowPrivate) return;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(u.hostname, { all: true });
  } catch (err) {
    throw new InstallError(`cannot resolve ${u.hostname}: ${(err as Error).message}`);
  }
  const bad = addresses.find((a) => isPrivateAddress(a.address));
  if (bad) throw new InstallError(`git clone refused: ${u.hostname} resolves to private address ${bad.address}`);
}

/** git with none of the user's configuration, no prompts, no hooks, no redirects, no LFS downloads. */
function git(
  args: string[],
  opts: { cwd?: string; timeoutMs: number; signal?: AbortSignal; fileProtocol?: boolean },
): Promise<{ code: number | null; output: string }> {
  const safe = [
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "protocol.ext.allow=never",
    "-c",
    `protocol.file.allow=${opts.fileProtocol ? "always" : "never"}`,
    "-c",
    "http.followRedirects=false",
    "-c",
    "submodule.recurse=false",
  ];
  return runCollect("git", [...safe, ...args], {
    cwd: opts.cwd,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: "/nonexistent",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
      GIT_LFS_SKIP_SMUDGE: "1",
      GIT_ASKPASS: "/bin/false",
      ...(process.env.https_proxy ? { https_proxy: process.env.https_proxy } : {}),
      ...(process.env.HTTPS_PROXY ? { HTTPS_PROXY: process.env.HTTPS_PROXY } : {}),
    },
  });
}

function runCollect(
  file: string,
  args: string[],
  opts: { cwd?: string; timeoutMs: number; signal?: AbortSignal; env: Record<string, string> },
): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    const keep = (c: Buffer) => {
      output = (output + c.toString()).slice(-16384);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
    };
    const timer = setTimeout(kill, opts.timeoutMs);
    opts.signal?.addEventListener("abort", kill, { once: true });
    child.on("error", (err) => {
      clearTimeout(timer);
      done({ code: -1, output: err.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", kill);
      done({ code, output });
    });
  });
}

const lastLines = (s: string) =>
  s
    .split("\n")
    .map((l) => l.replace(/^(npm (error|ERR!)|fatal:|error:)\s*/, "").trim())
    .filter((l) => l && !/complete log|^\d{4}-\d\d-\d\d/i.test(l))
    .slice(-2)
    .join("; ")
    .slice(0, 300) || "no output";

/** The commit a ref names on the remote (a full commit id is taken as given). */
async function resolveCommit(src: GitSource, timeoutMs: number, fileProtocol: boolean): Promise<string> {
  if (src.ref && /^[0-9a-f]{40}$/.test(src.ref)) return src.ref;
  const want = src.ref ?? "HEAD";
  const r = await git(["ls-remote", "--", src.url, want], { timeoutMs, fileProtocol });
  if (r.code !== 0) throw new InstallError(`git ls-remote ${src.url} failed: ${lastLines(r.output)}`);
  const lines = r.output.split("\n").filter((l) => /^[0-9a-f]{40}\t/.test(l));
  // A tag's peeled commit (refs/tags/x^{}) wins over the tag object.
  const peeled = lines.find((l) => l.endsWith("^{}"));
  const sha = (peeled ?? lines[0])?.slice(0, 40);
  if (!sha) throw new InstallError(`${src.url} has no ref ${want}`);
  return sha;
}

/** An installed git checkout: the npm package it holds, and the commit. */
export interface InstalledGit extends InstalledPackage {
  commit: string;
  built: boolean;
}

const MARKER = ".mcp-census-installed";

/**
 * Clones one commit of a repository, installs its dependencies with npm (scripts off), runs its build script in the
 * sandbox (no network, only the checkout writable) and describes the bin to launch, cached per URL and commit.
 * The repository's own code never runs outside the sandbox: not its install scripts, not its build.
 */
export async function installGitPackage(
  src: GitSource,
  opts: { cacheDir: string; timeoutMs: number; allowPrivateNetwork: boolean; signal?: AbortSignal },
): Promise<InstalledGit> {
  const fileProtocol = src.url.startsWith("file:///");
  await checkRemote(src.url, opts.allowPrivateNetwork);
  const commit = await resolveCommit(src, Math.min(opts.timeoutMs, 60_000), fileProtocol);
  const dir = join(resolve(opts.cacheDir), "git", `${contentHash(src.url).slice(0, 16)}@${commit}`);
  if (existsSync(join(dir, MARKER)))
    return finish(dir, commit, readFileSync(join(dir, MARKER), "utf8").includes("built"), true);
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const fail = async (msg: string): Promise<never> => {
    await rm(tmp, { recursive: true, force: true });
    throw new InstallError(msg);
  };
  await mkdir(tmp, { recursive: true });
  const limits = { cwd: tmp, timeoutMs: opts.timeoutMs, signal: opts.signal, fileProtocol };
  for (const step of [
    ["init", "-q"],
    ["fetch", "-q", "--depth", "1", "--", src.url, src.ref && !/^[0-9a-f]{40}$/.test(src.ref) ? src.ref : commit],
    ["checkout", "-q", "--detach", "FETCH_HEAD"],
  ]) {
    const r = await git(step, limits);
    if (r.code !== 0) await fail(`git ${step[0]} ${src.url} failed: ${lastLines(r.output)}`);
  }
  const head = await git(["rev-parse", "HEAD"], limits);
  if (head.output.trim() !== commit) await fail(`${src.url} ${src.ref ?? "HEAD"} moved while cloning; try again`);
  await rm(join(tmp, ".git"), { recursive: true, force: true });
  let pkg: { name?: string; scripts?: Record<string, string>; dependencies?: object; devDependencies?: object };
  try {
    pkg = JSON.parse(readFileSync(join(tmp, "package.json"), "utf8"));
  } catch {
    return fail(`${src.url} has no readable package.json at its root (only npm packages are launched from git)`);
  }
  if (Object.keys(pkg.dependencies ?? {}).length || Object.keys(pkg.devDependencies ?? {}).length) {
    // Dev dependencies too: the build needs them. Scripts off, as for every install.
    const r = await runCollect("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-save"], {
      cwd: tmp,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      env: { ...npmEnv(process.env), npm_config_update_notifier: "false" },
    });
    if (r.code !== 0) await fail(`npm install in ${src.url} failed: ${lastLines(r.output)}`);
  }
  const script = pkg.scripts?.build ? "build" : undefined;
  if (script) {
    const built = await buildInSandbox(tmp, script, opts.timeoutMs);
    if (!built.ok) await fail(`npm run ${script} in the sandbox failed: ${built.error}`);
  }
  await writeFile(join(tmp, MARKER), `${script ? "built" : "not built"} ${new Date().toISOString()}\n`);
  try {
    finish(tmp, commit, !!script, false);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await mkdir(dirname(dir), { recursive: true });
  try {
    await rename(tmp, dir);
  } catch {
    await rm(tmp, { recursive: true, force: true });
  }
  return finish(dir, commit, !!script, false);
}

function finish(dir: string, commit: string, built: boolean, fromCache: boolean): InstalledGit {
  let name: string;
  try {
    name = String(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name ?? "");
  } catch {
    throw new InstallError("the checkout has no readable package.json");
  }
  if (!name) throw new InstallError("the checkout's package.json has no name");
  return { ...describeInstalled(name, dir, dir, fromCache), commit, built };
}

/** `npm run <script>` in the checkout, in the sandbox: no network, only the checkout writable. */
async function buildInSandbox(
  dir: string,
  script: string,
  timeoutMs: number,
): Promise<{ ok: true } | { ok: false; error: string }> {
  if (!(await sandboxAvailable()).ok)
    return { ok: false, error: "no sandbox to run it in (a build never runs outside one)" };
  const npmCli = realpathSync(
    (
      await runCollect("sh", ["-c", "command -v npm"], { timeoutMs: 10_000, env: { PATH: process.env.PATH ?? "" } })
    ).output.trim() || "/usr/bin/npm",
  );
  const cmd = sandboxCommand(process.execPath, [npmCli, "run", script], {
    readOnly: [dirname(dirname(npmCli))],
    writable: [dir],
    cwd: dir,
    env: {
      ...baseEnv(SANDBOX_HOME, SANDBOX_TMP),
      npm_config_cache: `${SANDBOX_HOME}/.npm`,
      npm_config_update_notifier: "false",
      PATH: `${join(dir, "node_modules", ".bin")}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    },
    memoryLimitMb: 2048,
    cpuSeconds: Math.ceil(timeoutMs / 1000),
    tmpfsMb: 512,
  });
  const r = await runCollect(cmd.file, cmd.args, {
    timeoutMs,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  return r.code === 0 ? { ok: true } : { ok: false, error: lastLines(r.output) };
}
