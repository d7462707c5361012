#!/usr/bin/env node
// The mcp-census command. It runs in this process (no child process, so signals such as SIGTERM reach it directly):
// - the installed package runs the compiled JavaScript in dist/;
// - a checkout (src/ present, tsx installed as a devDependency) runs the TypeScript source through tsx's loader,
//   so no build step is needed while developing and a stale dist/ is never run by mistake.
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
const compiled = new URL("../dist/src/cli/main.js", import.meta.url);

if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write("mcp-census: dist/ is missing; run `npm run build` first\n");
  process.exit(1);
}
