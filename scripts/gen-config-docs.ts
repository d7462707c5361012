/**
 * Generates the README's configuration table from the config schema, so the docs cannot drift.
 * `npm run docs:config` rewrites the block between the markers in README.md; `--check` exits 1 when it is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { ConfigSchema, ENV_VARS } from "../src/core/config.js";

const START = "<!-- config-table:start -->";
const END = "<!-- config-table:end -->";

/** The Markdown table of every setting: key, environment variable, default, description. */
export function configTable(): string {
  const rows = ["| key | environment | default | what |", "|---|---|---|---|"];
  const shape = ConfigSchema.shape as Record<string, { description?: string; def?: unknown; _zod?: { def: unknown } }>;
  for (const [key, field] of Object.entries(shape)) {
    const def = (field as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
    const dflt = def.type === "default" ? JSON.stringify(def.defaultValue) : "";
    const env = ENV_VARS[key as keyof typeof ENV_VARS];
    rows.push(`| \`${key}\` | \`${env}\` | ${dflt ? `\`${dflt}\`` : "—"} | ${field.description ?? ""} |`);
  }
  return rows.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const readme = readFileSync("README.md", "utf8");
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < 0) throw new Error("README.md lacks the config-table markers");
  const next = `${readme.slice(0, a + START.length)}\n${configTable()}\n${readme.slice(b)}`;
  if (process.argv.includes("--check")) {
    if (next !== readme) {
      console.error("README.md config table is stale: run `npm run docs:config`");
      process.exit(1);
    }
  } else writeFileSync("README.md", next);
}
