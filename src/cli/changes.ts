import type { Command } from "commander";
import { AppError } from "../core/errors.js";
import { type ChangeEvent, listChanges, SEVERITIES, type Severity } from "../history/index.js";
import { forTerminal } from "../history/text.js";
import { action, catalogFor, configFor, wantsJson } from "./common.js";

interface ChangesFlags {
  since?: string;
  server?: string;
  severity?: string;
  limit: string;
  cursor?: string;
  diff?: boolean;
}

/** One change as terminal lines: a headline and, when asked, its diff. Untrusted text is made inert. */
export function formatChange(c: ChangeEvent, withDiff = false): string[] {
  const lines = [
    forTerminal(
      `${c.at}  ${c.severity.toUpperCase().padEnd(6)}  ${c.server} › ${c.toolName}  ${c.kind.replace(/_/g, " ")}: ${c.reason}`,
    ),
  ];
  if (withDiff) {
    for (const l of c.details.description?.diff ?? []) lines.push(forTerminal(`    ${l}`));
    for (const p of c.details.parameters ?? []) {
      lines.push(forTerminal(`    parameter ${p.path}: ${p.change.replace("_", " ")} ${p.from ?? ""} → ${p.to ?? ""}`));
    }
    for (const a of c.details.annotations ?? []) {
      lines.push(forTerminal(`    annotation ${a.key}: ${JSON.stringify(a.from)} → ${JSON.stringify(a.to)}`));
    }
  }
  return lines;
}

/** `mcp-census changes`: the drift feed from the catalog, newest first. */
export function registerChanges(program: Command): void {
  program
    .command("changes")
    .description("list recorded changes to servers' tool definitions (drift), newest first")
    .option("--since <when>", "only changes at or after an ISO date, or within a duration: 24h, 7d, 2w")
    .option("--server <server>", "only this server (name, slug or id)")
    .option("--severity <level>", `minimum severity: ${SEVERITIES.join(", ")}`)
    .option("--limit <n>", "changes per page (1-500)", "50")
    .option("--cursor <cursor>", "next page, from the previous output")
    .option("--diff", "show each change's diff")
    .action(
      action(async (flags: ChangesFlags, cmd: Command) => {
        if (flags.severity && !SEVERITIES.includes(flags.severity as Severity)) {
          throw new AppError("bad_input", `--severity must be one of ${SEVERITIES.join(", ")}`);
        }
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
          throw new AppError("bad_input", "--limit must be an integer from 1 to 500");
        }
        // Opened writable so a catalog made before the history tables existed gets its migration.
        const cat = catalogFor(configFor(cmd));
        try {
          const page = listChanges(cat.sqlite, {
            since: flags.since,
            server: flags.server,
            severity: flags.severity as Severity | undefined,
            limit,
            cursor: flags.cursor,
          });
          if (wantsJson(cmd)) {
            process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
            return;
          }
          if (page.items.length === 0) {
            process.stdout.write("no changes recorded for this filter\n");
            return;
          }
          const out = page.items.flatMap((c) => formatChange(c, !!flags.diff));
          if (page.nextCursor) out.push(`more: --cursor ${page.nextCursor}`);
          process.stdout.write(`${out.join("\n")}\n`);
        } finally {
          cat.close();
        }
      }),
    );
}
