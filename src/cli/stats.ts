import type { Command } from "commander";
import { currentCatalogStats } from "../store/stats.js";
import { action, catalogFor, configFor, wantsJson } from "./common.js";

const fmt = (o: Record<string, number>) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ") || "none";

/** `mcp-census stats`: servers, tools by category and risk, probe outcomes. */
export function registerStats(program: Command): void {
  program
    .command("stats")
    .description("print catalog totals: servers, tools by category and risk, probe outcomes")
    .action(
      action((_flags: unknown, cmd: Command) => {
        const cat = catalogFor(configFor(cmd), { readonly: true });
        try {
          const s = currentCatalogStats(cat.sqlite);
          if (wantsJson(cmd)) {
            process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
            return;
          }
          process.stdout.write(
            [
              `servers: ${s.servers} (by source: ${fmt(s.serversBySource)})`,
              `probe outcomes: ${fmt(s.probeOutcomes)}`,
              `tools: ${s.tools} (${s.toolVersions} definition versions stored, ${s.unclassified} unclassified)`,
              `by category: ${fmt(s.byCategory)}`,
              `by risk: ${fmt(s.byRisk)}`,
            ].join("\n") + "\n",
          );
        } finally {
          cat.close();
        }
      }),
    );
}
