import { AppError } from "../core/errors.js";
import type { Argument, EnvVar, PackageSpec, RemoteSpec, ServerEntry } from "../core/types.js";
import { githubSource, gitSource } from "./git-install.js";

/** One way to reach a server. */
export type ProbeTarget =
  | { kind: "package"; pkg: PackageSpec }
  | { kind: "remote"; remote: RemoteSpec }
  | { kind: "command"; command: string; args: string[]; env?: Record<string, string>; cwd?: string };

/** Given to required secrets so servers that insist on a key start; obviously not a real credential. */
export const PLACEHOLDER_SECRET = "MCP_CENSUS_PLACEHOLDER_NOT_A_REAL_KEY";
const PLACEHOLDER_VALUE = "mcp-census-placeholder";

function registryRank(t: ProbeTarget): number {
  if (t.kind === "remote") return t.remote.type === "streamable-http" ? 1 : t.remote.type === "sse" ? 2 : 3;
  if (t.kind === "command") return 0;
  const rt = t.pkg.registryType.toLowerCase();
  const stdio = (t.pkg.transport?.type ?? "stdio") === "stdio";
  if (rt === "npm") return stdio ? 0 : 4;
  if (rt === "pypi") return 5;
  if (rt === "oci") return 6;
  if (rt === "mcpb") return 7;
  return 8;
}

/** Launch choices for a registry entry in preference order: npm stdio, remotes, PyPI, OCI, mcpb. */
export function targetsForEntry(entry: ServerEntry): ProbeTarget[] {
  const targets: ProbeTarget[] = [
    ...entry.packages.map((pkg) => ({ kind: "package" as const, pkg })),
    ...entry.remotes.map((remote) => ({ kind: "remote" as const, remote })),
  ];
  // Stable sort keeps the registry's own order within a rank.
  return targets
    .map((t, i) => ({ t, i }))
    .sort((a, b) => registryRank(a.t) - registryRank(b.t) || a.i - b.i)
    .map((x) => x.t);
}

/** Parses a CLI target: "npm:@scope/pkg[@version]", "pypi:pkg[==version|@version]", "oci:image[:tag]" or an http(s) URL. */
export function parseTarget(spec: string): ProbeTarget {
  const s = spec.trim();
  if (/^https?:\/\//i.test(s)) {
    try {
      new URL(s);
    } catch {
      throw new AppError("bad_input", `not a valid URL: ${s.slice(0, 200)}`);
    }
    return { kind: "remote", remote: { type: /\/sse\/?$/.test(s) ? "sse" : "streamable-http", url: s } };
  }
  const m = /^(npm|pypi|oci|mcpb|git|github):(.+)$/i.exec(s);
  if (!m) {
    throw new AppError(
      "bad_input",
      `unknown target "${s.slice(0, 100)}": use npm:<package>[@version], pypi:, git:, github:, oci: or a URL`,
    );
  }
  const kind = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (kind === "npm") {
    const at = rest.lastIndexOf("@");
    const hasVersion = at > 0;
    const identifier = hasVersion ? rest.slice(0, at) : rest;
    const version = hasVersion ? rest.slice(at + 1) : undefined;
    if (!/^(?:@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*$/i.test(identifier)) {
      throw new AppError("bad_input", `not a valid npm package name: ${identifier.slice(0, 100)}`);
    }
    return { kind: "package", pkg: { registryType: "npm", identifier, ...(version ? { version } : {}) } };
  }
  if (kind === "pypi") {
    // pypi:<name>==<version> as pip writes it, or pypi:<name>@<version> like the other targets.
    const m2 = /^([^=@\s]+)(?:(?:==|@)(.+))?$/.exec(rest);
    const identifier = m2?.[1] ?? "";
    const version = m2?.[2];
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(identifier)) {
      throw new AppError("bad_input", `not a valid PyPI project name: ${rest.slice(0, 100)}`);
    }
    return { kind: "package", pkg: { registryType: "pypi", identifier, ...(version ? { version } : {}) } };
  }
  if (kind === "git" || kind === "github") {
    let src: { url: string; ref?: string };
    try {
      src = kind === "git" ? gitSource(rest) : githubSource(rest);
    } catch (err) {
      throw new AppError("bad_input", (err as Error).message);
    }
    return {
      kind: "package",
      pkg: { registryType: "git", identifier: src.url, ...(src.ref ? { version: src.ref } : {}) },
    };
  }
  return { kind: "package", pkg: { registryType: kind, identifier: rest } };
}

/**
 * Revision of what a probe does to launch and list a server: bump it when launch behaviour changes (new retries,
 * new runtimes), so listings made by an older probe are not reused as if this one had made them.
 */
export const PROBE_REVISION = 3;

/**
 * True when a package names one exact published version (npm semver, PyPI pin, OCI digest): launching it again
 * runs the same code. A range, a tag or no version may resolve to something new at any time.
 */
export function isPinnedPackage(pkg: PackageSpec): boolean {
  const v = pkg.version ?? "";
  const rt = pkg.registryType.toLowerCase();
  if (rt === "npm") return /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(v);
  if (rt === "pypi") return /^\d+(?:\.\d+)*(?:(?:a|b|rc|\.post|\.dev)\d+)*$/.test(v);
  if (rt === "oci") return /@sha256:[0-9a-f]{64}$/.test(pkg.identifier);
  return false;
}

/** A command line built from a registry entry, with the environment and the placeholders it needed. */
export interface BuiltCommand {
  runtimeArgs: string[];
  packageArgs: string[];
  env: Record<string, string>;
  placeholders: string[];
  /** Environment for the launch record: secrets and placeholders masked. */
  envForRecord: Record<string, string>;
  notes: string[];
}

function placeholderFor(a: Argument): string {
  if (a.isSecret) return PLACEHOLDER_SECRET;
  if (a.choices?.length) return a.choices[0]!;
  if (a.format === "number") return "1";
  if (a.format === "boolean") return "false";
  if (a.format === "filepath") return "/tmp/mcp-census-placeholder";
  return PLACEHOLDER_VALUE;
}

/** Value for one argument: its value, else default, else a placeholder when required; undefined to omit it. */
function argValue(a: Argument, label: string, placeholders: string[]): string | undefined {
  if (a.value !== undefined) return substitute(a.value, placeholders);
  if (a.default !== undefined) return a.default;
  if (!a.isRequired) return undefined;
  placeholders.push(label);
  return placeholderFor(a);
}

/** Registry values may hold {variables} meant to be filled by the user; fill them with placeholders. */
function substitute(v: string, placeholders: string[]): string {
  return v.replace(/\{([A-Za-z_][\w.-]*)\}/g, (_m, name: string) => {
    placeholders.push(name);
    return /key|token|secret|password/i.test(name) ? PLACEHOLDER_SECRET : PLACEHOLDER_VALUE;
  });
}

function renderArgs(list: Argument[] | undefined, placeholders: string[]): string[] {
  const out: string[] = [];
  for (const [i, a] of (list ?? []).entries()) {
    const label = a.name ?? a.valueHint ?? `argument ${i + 1}`;
    if (a.type === "named" && a.name) {
      const v = argValue(a, a.name, placeholders);
      if (v === undefined && a.value === undefined && !a.isRequired) continue;
      out.push(a.name);
      if (v !== undefined && v !== "") out.push(v);
    } else {
      const v = argValue(a, label, placeholders);
      if (v !== undefined) out.push(v);
    }
  }
  return out;
}

/** Builds arguments and environment from runtimeArguments / packageArguments / environmentVariables. */
export function buildCommand(pkg: PackageSpec): BuiltCommand {
  const placeholders: string[] = [];
  const runtimeArgs = renderArgs(pkg.runtimeArguments, placeholders);
  const packageArgs = renderArgs(pkg.packageArguments, placeholders);
  const env: Record<string, string> = {};
  const envForRecord: Record<string, string> = {};
  const notes: string[] = [];
  for (const e of (pkg.environmentVariables ?? []) as EnvVar[]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name)) {
      notes.push(`skipped environment variable with an invalid name`);
      continue;
    }
    const before = placeholders.length;
    const v = argValue(e, e.name, placeholders);
    if (v === undefined) continue;
    env[e.name] = v;
    envForRecord[e.name] = e.isSecret || placeholders.length > before ? "<placeholder>" : v;
    if (e.isSecret && placeholders.length === before) envForRecord[e.name] = "<secret>";
  }
  return { runtimeArgs, packageArgs, env, placeholders: [...new Set(placeholders)], envForRecord, notes };
}

/** Node flags we pass through from runtimeArguments; npx's own flags (-y, --package) mean nothing without npx. */
export function nodeFlagsFrom(runtimeArgs: string[]): { flags: string[]; ignored: string[] } {
  const flags: string[] = [];
  const ignored: string[] = [];
  for (const a of runtimeArgs) {
    if (/^--(max-old-space-size|experimental-[\w-]+|no-warnings|enable-source-maps|no-deprecation)(=.*)?$/.test(a)) {
      flags.push(a);
    } else {
      ignored.push(a);
    }
  }
  return { flags, ignored };
}
