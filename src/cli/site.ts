import { join } from "node:path";
import type { Command } from "commander";
import { AppError } from "../core/errors.js";
import { buildSite } from "../site/index.js";
import { action, catalogFor, configFor, type GlobalOptions, wantsJson } from "./common.js";

interface SiteOptions {
  out?: string;
  baseUrl?: string;
  full?: boolean;
  workers?: string;
}

/** `mcp-census site`: builds the static site from the catalog (incremental unless --full). */
export function registerSite(program: Command): void {
  program
    .command("site")
    .description("build the static site from the catalog (only pages whose data changed are rewritten)")
    .option("-o, --out <dir>", "output folder (default <outDir>/site)")
    .option(
      "--base-url <url>",
      "absolute URL the site is served from (canonical links, sitemap, feed; default: config siteBaseUrl)",
    )
    .option("--full", "re-render and rewrite every page, ignoring the build manifest")
    .option(
      "--workers <n>",
      "render in this many worker threads (0: one thread; default: one per core but one, for builds of 256+ servers)",
    )
    .action(
      action(async (opts: SiteOptions, cmd: Command) => {
        const config = configFor(cmd, { siteBaseUrl: opts.baseUrl });
        const workers = opts.workers === undefined ? undefined : Number(opts.workers);
        if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) {
          throw new AppError("bad_input", `--workers must be a whole number ≥ 0, got "${opts.workers}"`);
        }
        const out = opts.out ?? join(config.outDir, "site");
        const cat = catalogFor(config, { readonly: true });
        const quiet = !!(cmd.optsWithGlobals() as GlobalOptions).quiet;
        const t0 = performance.now();
        try {
          const r = await buildSite(cat.sqlite, out, {
            baseUrl: config.siteBaseUrl,
            full: !!opts.full,
            ...(workers === undefined ? {} : { workers }),
            onProgress:
              quiet || wantsJson(cmd) || !process.stderr.isTTY
                ? undefined
                : (p) => process.stderr.write(`\r${p.phase}: ${p.done}${p.total ? `/${p.total}` : ""}   `),
          });
          const ms = Math.round(performance.now() - t0);
          if (wantsJson(cmd)) process.stdout.write(`${JSON.stringify({ out, ms, ...r })}\n`);
          else if (!quiet) {
            if (process.stderr.isTTY) process.stderr.write("\n");
            process.stdout.write(
              `site: ${out} — ${r.pagesWritten} files written, ${r.pagesUnchanged} unchanged, ${r.pagesDeleted} deleted ` +
                `(${(r.bytes / 1e6).toFixed(1)} MB) from ${r.serversRendered} servers rendered, ${r.serversSkipped} unchanged; ` +
                `search: ${r.searchShards} shards, ${(r.searchBytes / 1e6).toFixed(1)} MB; ${ms} ms\n`,
            );
          }
        } finally {
          cat.close();
        }
      }),
    );
}
