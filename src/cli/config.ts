import type { Command } from "commander";
import { ENV_VARS, explainConfig, maskedValue } from "../core/config.js";
import { action, type GlobalOptions, wantsJson } from "./common.js";

/** Registers `config`: the effective settings and where each came from (default, file, env, flag), secrets masked. */
export function registerConfig(program: Command): void {
  program
    .command("config")
    .description("print the effective settings and where each came from (default, file, env, flag); secrets masked")
    .action(
      action((_flags: unknown, cmd: Command) => {
        const g = cmd.optsWithGlobals() as GlobalOptions;
        const { config, sources, file } = explainConfig(
          { dataDir: g.dataDir, dbPath: g.db, logLevel: g.logLevel, logFormat: g.logFormat },
          { configFile: g.config },
        );
        const rows = Object.keys(sources)
          .sort()
          .map((key) => {
            const k = key as keyof typeof config;
            const env = ENV_VARS[k as keyof typeof ENV_VARS];
            return { key, value: maskedValue(key, config[k]), source: sources[k], ...(env ? { env } : {}) };
          });
        if (wantsJson(cmd)) {
          const settings = Object.fromEntries(rows.map(({ key, ...rest }) => [key, rest]));
          process.stdout.write(`${JSON.stringify({ file: file ?? null, settings }, null, 2)}\n`);
          return;
        }
        const shown = (v: unknown) => (v === undefined ? "(unset)" : typeof v === "string" ? v : JSON.stringify(v));
        const width = Math.max(...rows.map((r) => r.key.length));
        const lines = rows.map((r) => {
          const from = r.source === "env" ? `env ${r.env}` : r.source === "file" ? `file ${file}` : r.source;
          return `${r.key.padEnd(width)}  ${shown(r.value)}  (${from})`;
        });
        process.stdout.write(`${file ? `config file: ${file}` : "config file: none"}\n${lines.join("\n")}\n`);
      }),
    );
}
