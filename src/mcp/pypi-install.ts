import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { InstallError, rememberedFailure, rememberFailure } from "./npm-install.js";

/** A PyPI package installed in its own virtual environment, ready to launch. */
export interface InstalledPyPackage {
  name: string;
  version: string;
  /** The virtual environment (one per package and version). */
  venvDir: string;
  /** The environment's interpreter (a link to the base interpreter). */
  python: string;
  /** The base interpreter's installation, which the sandbox must show read-only (undefined when under /usr). */
  basePrefix?: string;
  /** The console script to run with `python`. */
  scriptPath: string;
  scriptName: string;
  installer: "uv" | "pip";
  fromCache: boolean;
}

/** Where and how PyPI packages are installed. */
export interface PyPIInstallOptions {
  cacheDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Interpreter the environments are made from (default python3 on PATH). */
  python?: string;
  /** Package index URL; "none" installs only from findLinks (pip/uv --no-index). Default: the installer's own. */
  indexUrl?: string;
  /** Folders or URLs of wheels searched besides (or, with indexUrl "none", instead of) the index. */
  findLinks?: string[];
  /** Test hook: which installer to use (default uv when on PATH, else pip). */
  installer?: "uv" | "pip";
}

/** No interpreter (or uv) to make environments with: the runtime is missing here, not the package at fault. */
export class PythonMissingError extends InstallError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "unsupported" });
    this.name = "PythonMissingError";
  }
}

const MARKER = ".mcp-census-installed";
const inflight = new Map<string, Promise<InstalledPyPackage>>();

/** A project name as PEP 508 allows it (also guards the command line against option injection). */
export function isValidPyPIName(name: string): boolean {
  return name.length <= 200 && /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name);
}

/** An exact PEP 440 version (pins only: no ranges, URLs or local paths reach the installer). */
export function isExactPyPIVersion(v: string): boolean {
  return (
    v.length <= 64 &&
    /^(?:\d+!)?\d+(?:\.\d+)*(?:[-_.]?(?:a|b|rc|alpha|beta|c|pre|preview)[-_.]?\d*)?(?:[-_.]?(?:post|rev|r)[-_.]?\d*)?(?:[-_.]?dev[-_.]?\d*)?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$/i.test(
      v,
    )
  );
}

/** PEP 503 normalised name: case-folded, runs of -_. become one dash. */
export function normalisePyPIName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** Cache folder for one package version. */
export function pypiCacheDirFor(cacheDir: string, name: string, version: string): string {
  return join(resolve(cacheDir), "pypi", `${normalisePyPIName(name)}@${version}`);
}

// What pip or uv need from our environment: where things are, proxies, TLS roots and their own configuration
// (PIP_INDEX_URL, UV_INDEX_URL…). Never the rest (API keys, REDIS_URL, webhook secrets).
const INSTALLER_ENV =
  /^(PATH|HOME|USER|LANG|LC_[A-Z]+|TMPDIR|TZ|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|(HTTPS?|NO)_PROXY|(https?|no)_proxy|PIP_[A-Z0-9_]+|UV_[A-Z0-9_]+|PYENV_[A-Z_]+)$/;

function installerEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && INSTALLER_ENV.test(k)) out[k] = v;
  return {
    ...out,
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    PIP_NO_INPUT: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    // uv must use the interpreter it is given, never download one.
    UV_PYTHON_DOWNLOADS: "never",
    UV_NO_PROGRESS: "1",
  };
}

function run(
  file: string,
  args: string[],
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((done) => {
    const child = spawn(file, args, { env: installerEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    let timedOut = false;
    const keep = (c: Buffer) => {
      output = (output + c.toString()).slice(-8192);
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
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    opts.signal?.addEventListener("abort", kill, { once: true });
    child.on("error", (err) => {
      clearTimeout(timer);
      done({ code: -1, output: err.message, timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", kill);
      done({ code, output, timedOut });
    });
  });
}

let uvPresent: boolean | undefined;
async function hasUv(): Promise<boolean> {
  uvPresent ??= (await run("uv", ["--version"], { timeoutMs: 10_000 })).code === 0;
  return uvPresent;
}

/** The installer's last meaningful lines, for a one-line reason. */
function errorLine(output: string): string {
  const lines = output
    .split("\n")
    .map((l) => l.replace(/^(ERROR|error|WARNING|warning):\s*/, "").trim())
    .filter((l) => l && !/^(Looking in|Processing|Collecting|Using cached|\[notice\])/.test(l));
  return (lines.slice(-2).join("; ") || "no output").slice(0, 300);
}

/** The index flags for either installer (both spell them the same). */
function indexArgs(opts: PyPIInstallOptions): string[] {
  const out: string[] = [];
  if (opts.indexUrl === "none") out.push("--no-index");
  else if (opts.indexUrl) out.push("--index-url", opts.indexUrl);
  for (const f of opts.findLinks ?? []) out.push("--find-links", f);
  return out;
}

/** The site-packages folder of a virtual environment. */
function sitePackages(venv: string): string | undefined {
  const lib = join(venv, "lib");
  if (!existsSync(lib)) return undefined;
  for (const d of readdirSync(lib)) {
    const sp = join(lib, d, "site-packages");
    if (d.startsWith("python") && existsSync(sp)) return sp;
  }
  return undefined;
}

/** The installed distribution's metadata folder, found by its normalised name. */
function distInfo(sp: string, name: string): { dir: string; version: string } | undefined {
  const want = normalisePyPIName(name);
  for (const d of readdirSync(sp)) {
    if (!d.endsWith(".dist-info")) continue;
    let meta: string;
    try {
      meta = readFileSync(join(sp, d, "METADATA"), "utf8");
    } catch {
      continue;
    }
    const n = /^Name:\s*(.+)$/m.exec(meta)?.[1]?.trim();
    const v = /^Version:\s*(.+)$/m.exec(meta)?.[1]?.trim();
    if (n && v && normalisePyPIName(n) === want) return { dir: join(sp, d), version: v };
  }
  return undefined;
}

/** Console scripts declared by a distribution (entry_points.txt, [console_scripts]). */
export function consoleScripts(entryPoints: string): string[] {
  const out: string[] = [];
  let inSection = false;
  for (const raw of entryPoints.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) {
      inSection = line === "[console_scripts]";
      continue;
    }
    const m = inSection ? /^([^=\s]+)\s*=/.exec(line) : null;
    if (m) out.push(m[1]!);
  }
  return out;
}

/** The script to run: the only one, or the one named like the package (normalised), or one close to it. */
export function pickScript(name: string, scripts: string[]): string | undefined {
  if (scripts.length === 1) return scripts[0];
  const want = normalisePyPIName(name);
  const exact = scripts.find((s) => normalisePyPIName(s) === want);
  if (exact) return exact;
  const close = scripts.filter((s) => want.startsWith(normalisePyPIName(s)) || normalisePyPIName(s).startsWith(want));
  return close.length === 1 ? close[0] : undefined;
}

/** Reads an installed environment without running anything in it (a .pth file would run at interpreter start). */
function describe(name: string, venv: string, installer: "uv" | "pip", fromCache: boolean): InstalledPyPackage {
  const sp = sitePackages(venv);
  const info = sp ? distInfo(sp, name) : undefined;
  if (!info) throw new InstallError(`${name} is not in its environment after install`);
  let ep = "";
  try {
    ep = readFileSync(join(info.dir, "entry_points.txt"), "utf8");
  } catch {
    // no entry points
  }
  const scripts = consoleScripts(ep);
  const script = pickScript(name, scripts);
  if (!script) {
    throw new InstallError(
      `${name} ${info.version} has no console script to run (scripts: ${scripts.join(", ") || "none"})`,
    );
  }
  const scriptPath = join(venv, "bin", script);
  if (!existsSync(scriptPath)) throw new InstallError(`${name} console script ${script} was not installed`);
  const cfg = readFileSync(join(venv, "pyvenv.cfg"), "utf8");
  const home = /^home\s*=\s*(.+)$/m.exec(cfg)?.[1]?.trim();
  const basePrefix = home ? dirname(home) : undefined;
  return {
    name,
    version: info.version,
    venvDir: venv,
    python: join(venv, "bin", "python"),
    ...(basePrefix && basePrefix !== "/usr" ? { basePrefix } : {}),
    scriptPath,
    scriptName: script,
    installer,
    fromCache,
  };
}

/**
 * Installs a PyPI package and its dependencies, wheels only, into its own virtual environment at
 * <cacheDir>/pypi/<name>@<version> (reused when there). Wheels only is the PyPI form of "install scripts off": a
 * source distribution would run its setup code to build, so it is refused. Nothing installed runs here: the
 * metadata is read as files, and the server itself runs only in the sandbox.
 */
export async function installPyPIPackage(
  name: string,
  version: string | undefined,
  opts: PyPIInstallOptions,
): Promise<InstalledPyPackage> {
  if (!isValidPyPIName(name)) throw new InstallError(`not a valid PyPI project name: ${name.slice(0, 100)}`);
  if (version !== undefined && version !== "" && !isExactPyPIVersion(version)) {
    throw new InstallError(
      `not an exact PyPI version for ${name}: ${JSON.stringify(version.slice(0, 100))} (only pinned versions)`,
    );
  }
  const key = `pypi:${normalisePyPIName(name)}@${version || "latest"}`;
  if (version) {
    const failed = rememberedFailure(opts.cacheDir, key);
    if (failed) throw new InstallError(`${failed} (remembered from an earlier attempt; not retried)`);
    const dir = pypiCacheDirFor(opts.cacheDir, name, version);
    if (existsSync(join(dir, MARKER))) {
      const installer = readFileSync(join(dir, MARKER), "utf8").includes("uv") ? "uv" : "pip";
      return describe(name, dir, installer, true);
    }
  }
  const running = inflight.get(key);
  if (running) return running;
  const work = install(name, version, key, opts);
  inflight.set(key, work);
  try {
    return await work;
  } finally {
    inflight.delete(key);
  }
}

async function install(
  name: string,
  version: string | undefined,
  key: string,
  opts: PyPIInstallOptions,
): Promise<InstalledPyPackage> {
  const installer = opts.installer ?? ((await hasUv()) ? "uv" : "pip");
  const python = opts.python ?? "python3";
  const root = join(resolve(opts.cacheDir), "pypi");
  await mkdir(root, { recursive: true });
  const tmp = join(root, `.tmp-${normalisePyPIName(name)}-${process.pid}-${Date.now()}`);
  const requirement = version ? `${name}==${version}` : name;
  const limits = { timeoutMs: opts.timeoutMs, signal: opts.signal };
  const fail = async (what: string, r: { timedOut: boolean; output: string }): Promise<never> => {
    await rm(tmp, { recursive: true, force: true });
    if (r.timedOut) throw new InstallError(`${what} timed out after ${opts.timeoutMs} ms`);
    const hint = /No matching distribution/i.test(r.output)
      ? " (only wheels are installed: building a source distribution would run its code)"
      : "";
    throw new InstallError(`${what} failed: ${errorLine(r.output)}${hint}`);
  };
  // No pip inside the environment: the installer outside writes into it (faster, and nothing of pip to run later).
  const made =
    installer === "uv"
      ? await run("uv", ["venv", "--quiet", "--python", python, tmp], limits)
      : await run(python, ["-m", "venv", "--without-pip", tmp], limits);
  if (made.code === -1) {
    await rm(tmp, { recursive: true, force: true });
    throw new PythonMissingError(`cannot run ${installer === "uv" ? "uv" : python}: ${errorLine(made.output)}`);
  }
  if (made.code !== 0) await fail(`creating a virtual environment with ${installer === "uv" ? "uv" : python}`, made);
  const common = ["--only-binary", ":all:", ...indexArgs(opts), requirement];
  const r =
    installer === "uv"
      ? await run("uv", ["pip", "install", "--quiet", "--python", join(tmp, "bin", "python"), ...common], limits)
      : await run(
          python,
          ["-m", "pip", "--python", join(tmp, "bin", "python"), "install", "--no-compile", "--quiet", ...common],
          limits,
        );
  if (r.code !== 0) await fail(`${installer} install ${requirement}`, r);
  let described: InstalledPyPackage;
  try {
    described = describe(name, tmp, installer, false);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    // No console script in a published version never changes: remember it.
    if (err instanceof InstallError && version) await rememberFailure(opts.cacheDir, key, err.message);
    throw err;
  }
  const dir = pypiCacheDirFor(opts.cacheDir, name, described.version);
  await writeFile(join(tmp, MARKER), `${installer} ${new Date().toISOString()}\n`);
  if (existsSync(join(dir, MARKER))) {
    await rm(tmp, { recursive: true, force: true });
  } else {
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch {
      // Another process won the race; its copy is as good as ours.
      await rm(tmp, { recursive: true, force: true });
    }
  }
  // The environment works from its new folder: its python finds pyvenv.cfg beside itself; scripts run through it.
  return describe(name, dir, installer, false);
}

/** uv/uvx options that say where the script comes from; each takes a value. */
const LAUNCHER_OPTIONS = new Set(["--from", "--with", "--directory", "--python", "--project"]);

/**
 * Drops launcher options and a leading script name from a PyPI package's arguments: registries copy them from
 * `uvx --from <pkg> <script> …` and `uv run --directory <dir> …`, and they mean nothing to the script itself.
 */
export function launcherArgsDropped(args: string[], names: string[]): { args: string[]; dropped: string[] } {
  const out: string[] = [];
  const dropped: string[] = [];
  const same = new Set(names.map(normalisePyPIName));
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const opt = a.split("=", 1)[0]!;
    if (LAUNCHER_OPTIONS.has(opt)) {
      dropped.push(a);
      if (!a.includes("=") && i + 1 < args.length) dropped.push(args[++i]!);
      continue;
    }
    if (out.length === 0 && !a.startsWith("-") && same.has(normalisePyPIName(a))) {
      dropped.push(a);
      continue;
    }
    out.push(a);
  }
  return { args: out, dropped };
}
