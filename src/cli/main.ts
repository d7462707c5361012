import { Command, Option } from "commander";
import { LOG_FORMATS, LOG_LEVELS } from "../core/log.js";
import { PACKAGE_VERSION } from "../core/package-info.js";
import { registerChanges } from "./changes.js";
import { registerClassify } from "./classify.js";
import { registerConfig } from "./config.js";
import { registerCrawl } from "./crawl.js";
import { registerExport } from "./export.js";
import { registerMcp } from "./mcp.js";
import { registerPin } from "./pin.js";
import { registerPolicy } from "./policy.js";
import { registerProbe } from "./probe.js";
import { registerScan } from "./scan.js";
import { registerSchedule } from "./schedule.js";
import { registerServe } from "./serve.js";
import { registerSite } from "./site.js";
import { registerStats } from "./stats.js";
import { registerWorker } from "./worker.js";

// A reader that stops early (`mcp-census export | head`) closes the pipe: stop quietly, as Unix tools do, instead of
// an unhandled EPIPE with a stack trace. Other output errors are one line and exit 1.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    if (stream === process.stdout)
      process.stderr.write(`mcp-census: cannot write the output: ${err.code ?? err.message}\n`);
    process.exit(1);
  });
}

const program = new Command("mcp-census")
  .description(
    "A catalog of MCP servers and their tools: crawl registries, list each server's tools in a sandbox, classify\n" +
      "their access and risk, and serve recommended policies, a static site and an API.",
  )
  .version(PACKAGE_VERSION)
  .option("-c, --config <file>", "config file (JSON; default ./mcp-census.config.json when present)")
  .option("--data-dir <dir>", "data folder (catalog, caches, outputs)")
  .option("--db <file>", "SQLite catalog file (default <data-dir>/catalog.db)")
  .option("--json", "machine-readable JSON output")
  .option("-q, --quiet", "only errors")
  .addOption(new Option("--log-level <level>", "log verbosity").choices(LOG_LEVELS))
  .addOption(new Option("--log-format <format>", "log lines: text, or json (one object per line)").choices(LOG_FORMATS))
  .showHelpAfterError("(run with --help for usage)")
  .addHelpText(
    "after",
    "\nExit codes: 0 ok, 1 failure, 2 bad input or config, 3 not found, 4 storage error.\n" +
      "Environment variables and config keys: see the README's configuration table.",
  );

for (const register of [
  registerCrawl,
  registerProbe,
  registerClassify,
  registerPolicy,
  registerScan,
  registerSite,
  registerServe,
  registerMcp,
  registerWorker,
  registerSchedule,
  registerChanges,
  registerPin,
  registerExport,
  registerStats,
  registerConfig,
]) {
  register(program);
}

program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});
await program.parseAsync(process.argv);
