// `npm run build`: compiles src/ and workers/ to dist/ with tsc, then copies the files the compiled code reads at run
// time next to it (migrations, site assets, the plain-JS file writer). The TypeScript-only worker shim
// (render-worker.mjs, which registers tsx) is left out: the built package runs the compiled render-worker.js.
import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
for (const path of ["src/store/migrations", "src/site/assets", "src/site/file-writer.mjs"]) {
  cpSync(join(root, path), join(dist, path), { recursive: true });
}
