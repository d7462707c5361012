import { type Command, Option } from "commander";
import { forTerminal } from "../core/terminal.js";
import { createCatalogClassifier } from "../pipeline/classifier.js";
import { formatSummary, runCrawl } from "../pipeline/crawl.js";
import { createProgress } from "../pipeline/progress.js";
import { action, catalogFor, configFor, type GlobalOptions, wantsJson } from "./common.js";

interface CrawlFlags {
  source?: string[];
  registryUrl?: string;
  registryPath?: string;
  apiKey?: string;
  incremental?: boolean;
  probe: boolean;
  outputs: boolean;
  only?: string[];
  reprobe?: boolean;
  concurrency?: string;
  maxPages?: string;
  allowUnsandboxed?: boolean;
  allowPrivateNetwork?: boolean;
  llm: boolean;
  distributed?: boolean;
  baseUrl?: string;
}

/** `mcp-census crawl`: the main job. */
export function registerCrawl(program: Command): void {
  program
    .command("crawl")
    .description(
      "discover servers from registries (default: the bundled seeds), list each one's tools in a sandbox,\n" +
        "classify them, store everything, then write policies and the site",
    )
    .option("-s, --source <id...>", "sources to crawl: seed, official, smithery, glama, pulsemcp, docker, awesome, npm")
    .option("--registry-url <url>", "base URL of the source's API (e.g. a mirror or a loopback replay)")
    .option("--registry-path <path>", "local folder or file for file-based sources (seed, docker, awesome)")
    .option("--api-key <key>", "bearer key for sources that need one (Smithery)")
    .option("--incremental", "only fetch what changed since the last crawl (official registry: updated_since)")
    .option("--no-probe", "discover and merge only: make no connections to servers")
    .option("--no-outputs", "do not write policies and the site after the crawl")
    .option("--base-url <url>", "absolute URL the site will be served from (default: config siteBaseUrl)")
    .option("--only <server...>", "probe only these servers (name or slug)")
    .option(
      "--reprobe",
      "relaunch every server, even those whose last listing is still current (see reprobeAfterHours)",
    )
    .option("--concurrency <n>", "servers probed at once")
    .option("--max-pages <n>", "page cap per source")
    .option("--no-llm", "heuristics only, even when an LLM is configured")
    .option("--allow-unsandboxed", "launch servers without bubblewrap when it is missing (unsafe)")
    .option("--allow-private-network", "let remote probes reach loopback and private addresses")
    .addOption(new Option("--distributed", "enqueue on BullMQ workers (REDIS_URL) instead of running here"))
    .action(
      action(async (flags: CrawlFlags, cmd: Command) => {
        const config = configFor(cmd, {
          concurrency: flags.concurrency ? Number(flags.concurrency) : undefined,
          allowUnsandboxed: flags.allowUnsandboxed || undefined,
          allowPrivateNetwork: flags.allowPrivateNetwork || undefined,
          siteBaseUrl: flags.baseUrl,
        });
        const g = cmd.optsWithGlobals() as GlobalOptions;
        if (flags.distributed || config.redisUrl) {
          const { runDistributedCrawl } = await import("./crawl-distributed.js");
          await runDistributedCrawl(cmd, config, flags);
          return;
        }
        const ids = flags.source ?? ["seed"];
        const sources = ids.map((id) => ({
          id,
          baseUrl: flags.registryUrl,
          path: flags.registryPath ?? (id === "seed" ? config.seedsDir : undefined),
          apiKey: flags.apiKey,
          incremental: flags.incremental,
        }));
        const cat = catalogFor(config);
        try {
          const classifier = createCatalogClassifier(cat.sqlite, config, { llm: flags.llm });
          const summary = await runCrawl(
            cat,
            config,
            classifier,
            {
              sources,
              probe: flags.probe,
              outputs: flags.outputs,
              only: flags.only,
              reprobe: flags.reprobe,
              maxPages: flags.maxPages ? Number(flags.maxPages) : undefined,
            },
            createProgress(process.stderr, g.quiet || wantsJson(cmd)),
          );
          if (wantsJson(cmd)) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          else if (!g.quiet) process.stdout.write(`${forTerminal(formatSummary(summary))}\n`);
        } finally {
          cat.close();
        }
      }),
    );
}
