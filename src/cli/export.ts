import type { Command } from "commander";
import { writeExport } from "../pipeline/export.js";
import { action, catalogFor, configFor } from "./common.js";

/** `mcp-census export`: the whole catalog as JSONL. */
export function registerExport(program: Command): void {
  program
    .command("export")
    .description("write the whole catalog as JSONL (one server per line with its tools and classifications)")
    .option("-o, --out <file>", "output file (default: stdout)")
    .action(
      action(async (flags: { out?: string }, cmd: Command) => {
        const cat = catalogFor(configFor(cmd), { readonly: true });
        try {
          const n = await writeExport(cat.sqlite, flags.out);
          if (flags.out) process.stderr.write(`exported ${n} servers to ${flags.out}\n`);
        } finally {
          cat.close();
        }
      }),
    );
}
