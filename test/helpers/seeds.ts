import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A seed registry entry (the official server.json format) for an npm package started over stdio, version 1.0.0. */
export function npmSeedEntry(name: string, pkg: string) {
  return {
    name,
    description: `${pkg} for the test`,
    version: "1.0.0",
    packages: [{ registryType: "npm", identifier: pkg, version: "1.0.0", transport: { type: "stdio" } }],
  };
}

/** Writes the seed registry a crawl reads (`<dir>/servers.json`, the folder made if needed). */
export function writeSeeds(dir: string, entries: readonly object[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "servers.json"), JSON.stringify(entries));
}
