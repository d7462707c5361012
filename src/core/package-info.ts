import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder holding mcp-census's package.json, found by walking up from this file: the same from a checkout
 * (src/core/) and from the built package (dist/src/core/).
 */
function findPackageRoot(): { root: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "mcp-census" && typeof pkg.version === "string") return { root: dir, version: pkg.version };
    } catch {
      // No readable package.json here: keep walking up.
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("mcp-census: cannot find its package.json above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

const found = findPackageRoot();

/** The package's version, from package.json (never written anywhere else). */
export const PACKAGE_VERSION: string = found.version;

/** The package's root folder (where package.json is). */
export const PACKAGE_ROOT: string = found.root;
