import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError, storageError } from "../core/errors.js";
import type { Sqlite } from "../store/db.js";
import { lastProbe, listServers, type ServerRow, serverTools } from "../store/queries.js";
import { decidePolicy, whyNotListed } from "./decide.js";
import { launchSpec } from "./install.js";
import type { PolicyOverrides } from "./overrides.js";
import { FORMAT_EXT, renderPolicy } from "./render.js";
import { POLICY_FORMATS, type PolicyDecision, type PolicyFormat, type Profile } from "./types.js";

/**
 * The decision for one catalog server, from its stored tools, under the name the user gave it (default: its short
 * name). A server with no tools on record whose tools could not be listed (never probed, or its last probe failed)
 * gets a deny-all policy that says why, not an empty one that looks harmless. Used by `policy <server>` and `--all`.
 */
export function serverDecision(
  sqlite: Sqlite,
  server: ServerRow,
  opts: { profile?: Profile; overrides?: PolicyOverrides; name?: string; unattended?: boolean },
): PolicyDecision {
  const tools = serverTools(sqlite, server.id);
  const unlisted = tools.length === 0 ? whyNotListed(lastProbe(sqlite, server.id)) : null;
  const launch = launchSpec(server);
  return decidePolicy(server, tools, {
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.overrides ? { overrides: opts.overrides } : {}),
    ...(opts.name ? { serverKey: opts.name } : {}),
    ...(launch ? { launch } : {}),
    ...(unlisted !== null ? { unlisted } : {}),
    ...(opts.unattended ? { unattended: true } : {}),
  });
}

/** Where a format's file for a server goes, relative to `<outDir>/policies`. */
export function policyPath(format: PolicyFormat, slug: string): string {
  return format === "policy.json" ? `${slug}.json` : join(format, `${slug}.${FORMAT_EXT[format]}`);
}

function writeIfChanged(path: string, text: string): boolean {
  try {
    if (readFileSync(path, "utf8") === text) return false;
  } catch {
    // missing: write it
  }
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    // Nothing half-written stays behind; a full disk is a storage error naming the policy file.
    rmSync(tmp, { force: true });
    throw storageError(err, path) ?? err;
  }
  return true;
}

/** Removes `<dir>/*.<ext>` files whose slug is not in `keep`. */
function prune(dir: string, ext: string, keep: Set<string>): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith(`.${ext}`)) continue;
    if (!keep.has(f.slice(0, -ext.length - 1))) {
      rmSync(join(dir, f), { force: true });
      n++;
    }
  }
  return n;
}

/**
 * Writes every catalog server's policy in every format: `<outDir>/policies/<slug>.json` (policy.json v1) and
 * `<outDir>/policies/<format>/<slug>.<ext>`. Only changed files are rewritten; files of servers gone from the catalog
 * are removed.
 */
export function writeAllPolicies(
  sqlite: Sqlite,
  outDir: string,
  opts: { profile?: Profile; formats?: PolicyFormat[]; overrides?: PolicyOverrides } = {},
): { servers: number; files: number; written: number; removed: number } {
  const formats = [...new Set(opts.formats ?? POLICY_FORMATS)];
  const root = join(outDir, "policies");
  try {
    mkdirSync(root, { recursive: true });
    for (const f of formats) if (f !== "policy.json") mkdirSync(join(root, f), { recursive: true });
  } catch (err) {
    throw new AppError("io_error", `cannot create ${root}: ${(err as Error).message}`, { cause: err });
  }
  const servers = listServers(sqlite);
  const slugs = new Set<string>();
  let files = 0;
  let written = 0;
  for (const s of servers) {
    slugs.add(s.slug);
    const decision = serverDecision(sqlite, s, opts);
    for (const f of formats) {
      files++;
      if (writeIfChanged(join(root, policyPath(f, s.slug)), renderPolicy(decision, f))) written++;
    }
  }
  let removed = 0;
  for (const f of formats) {
    removed += f === "policy.json" ? prune(root, "json", slugs) : prune(join(root, f), FORMAT_EXT[f], slugs);
  }
  return { servers: servers.length, files, written, removed };
}
