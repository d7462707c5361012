import type { ServerEntry } from "../core/types.js";

/** Normalises a repository URL so that git+https, .git suffixes, trailing slashes and case do not split servers. */
export function normaliseRepoUrl(url: string): string | undefined {
  let u = url.trim().toLowerCase();
  if (!u) return undefined;
  u = u
    .replace(/^git\+/, "")
    .replace(/^git@([^:]+):/, "https://$1/")
    .replace(/^git:\/\//, "https://");
  u = u.replace(/^http:\/\//, "https://").replace(/^https:\/\/www\./, "https://");
  u = u
    .replace(/[#?].*$/, "")
    .replace(/\/+$/, "")
    .replace(/\.git$/, "");
  // github.com/owner/repo/tree/main/sub → keep the subfolder: monorepos host many servers.
  const m = /^https:\/\/(github\.com|gitlab\.com)\/([^/]+)\/([^/]+)(?:\/(?:tree|blob)\/[^/]+\/(.+))?$/.exec(u);
  if (m) return `${m[1]}/${m[2]}/${m[3]}${m[4] ? `/${m[4]}` : ""}`;
  return u.replace(/^https:\/\//, "");
}

/** Identity keys of a server entry. Strong keys (name, packages, remotes) identify it alone; the repository is weak:
 * monorepos publish many servers, so it only matches when exactly one known server has it. */
export function canonicalKeys(entry: ServerEntry): { strong: string[]; weak: string[] } {
  const keys = new Set<string>();
  keys.add(`name:${entry.name.trim().toLowerCase()}`);
  for (const p of entry.packages ?? []) {
    const type = p.registryType.toLowerCase();
    let id = p.identifier.trim();
    if (type === "oci") id = id.replace(/^docker\.io\//, "").replace(/:[^/:]+$/, "");
    if (type === "npm" || type === "pypi" || type === "oci" || type === "nuget")
      keys.add(`${type}:${id.toLowerCase()}`);
  }
  for (const r of entry.remotes ?? []) {
    keys.add(`remote:${r.url.trim().toLowerCase().replace(/\/+$/, "")}`);
  }
  const repoInfo = entry.repository as { url?: string; subfolder?: string } | undefined;
  let repo = repoInfo?.url ? normaliseRepoUrl(repoInfo.url) : undefined;
  if (repo && repoInfo?.subfolder) repo = `${repo}/${repoInfo.subfolder.replace(/^\.?\/+|\/+$/g, "").toLowerCase()}`;
  return { strong: [...keys], weak: repo ? [`repo:${repo}`] : [] };
}

/** A URL/path-safe slug for a server or tool name. */
export function slugify(name: string): string {
  const s = name
    .normalize("NFKD")
    .toLowerCase()
    .replace(/^@/, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 120);
  return s || "x";
}
