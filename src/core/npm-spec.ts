import semver from "semver";

// A dist-tag as npm accepts one on the command line: letters first, no ":" or "/" (so never a URL, git or file spec).
const DIST_TAG = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

/**
 * True for a version spec the npm registry itself resolves: an exact version, a range, or a dist-tag. Everything
 * else npm would also take — `http://…` tarball URLs, `git+http://…`, `github:…`, `file:…`, `npm:alias@…` — makes npm
 * fetch from wherever the spec says, so a registry entry could aim the crawler at an internal address (SSRF).
 */
export function isRegistryVersionSpec(spec: string): boolean {
  if (spec.length === 0 || spec.length > 256) return false;
  if (semver.valid(spec) || semver.validRange(spec)) return true;
  return DIST_TAG.test(spec);
}
