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

/** Hosts that proxy other people's servers: their URLs name a catalog's deployment, not the server itself. */
const GATEWAY_HOSTS = new Set(["server.smithery.ai"]);
/** Image namespaces a catalog rebuilds servers into (Docker's mcp/*): the catalog's artefact, not the publisher's. */
const CATALOG_IMAGE = /^mcp\//;

/** Identity keys of a server entry. Strong keys (name, packages, remotes) identify it alone; the repository is weak:
 * monorepos publish many servers, so it only matches when exactly one known server has it. A catalog's own
 * deployments (gateway URLs, rebuilt images) are weak too: they would otherwise outvote the repository. */
export function canonicalKeys(entry: ServerEntry): { strong: string[]; weak: string[] } {
  const keys = new Set<string>();
  const weak = new Set<string>();
  keys.add(`name:${entry.name.trim().toLowerCase()}`);
  for (const p of entry.packages ?? []) {
    const type = p.registryType.toLowerCase();
    let id = p.identifier.trim();
    if (type === "oci") id = id.replace(/^docker\.io\//, "").replace(/:[^/:]+$/, "");
    if (type === "npm" || type === "pypi" || type === "oci" || type === "nuget") {
      (type === "oci" && CATALOG_IMAGE.test(id) ? weak : keys).add(`${type}:${id.toLowerCase()}`);
    }
  }
  for (const r of entry.remotes ?? []) {
    const url = r.url.trim().toLowerCase().replace(/\/+$/, "");
    (GATEWAY_HOSTS.has(hostOf(url)) ? weak : keys).add(`remote:${url}`);
  }
  const repoInfo = entry.repository as { url?: string; subfolder?: string } | undefined;
  let repo = repoInfo?.url ? normaliseRepoUrl(repoInfo.url) : undefined;
  if (repo && repoInfo?.subfolder) repo = `${repo}/${repoInfo.subfolder.replace(/^\.?\/+|\/+$/g, "").toLowerCase()}`;
  if (repo) weak.add(`repo:${repo}`);
  return { strong: [...keys], weak: [...weak] };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
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
