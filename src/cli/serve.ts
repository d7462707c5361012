import { serve } from "@hono/node-server";
import type { Command } from "commander";
import { createApp } from "../api/app.js";
import { isLoopback } from "../api/http.js";
import { AppError } from "../core/errors.js";
import { action, catalogFor, configFor } from "./common.js";

/** `mcp-census serve`: the HTTP API (/v1), its reference (/v1/docs) and the MCP endpoint (/mcp). */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve the catalog over HTTP: JSON under /v1, reference at /v1/docs, MCP (Streamable HTTP) at /mcp")
    .option("-p, --port <port>", "port to listen on (0: any free port)", "8787")
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--cors-origin <origin...>", "origins allowed by CORS (repeatable; `*` any, `none` no CORS headers)", [
      "*",
    ] as string[])
    .action(
      action(async (opts: { port: string; host: string; corsOrigin: string[] }, cmd: Command) => {
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new AppError("bad_input", `--port must be an integer 0–65535, got ${JSON.stringify(opts.port)}`);
        }
        const config = configFor(cmd);
        // Read-only when the catalog has every migration: serving never writes, so the integrity check that guards
        // writes (PRAGMA quick_check over the whole file, 6–13 s at 500,000 tools) does not run on every start.
        const catalog = catalogFor(config, { mustExist: true, toRead: true });
        const corsOrigins = opts.corsOrigin.includes("none") ? [] : opts.corsOrigin;
        const app = createApp({
          sqlite: catalog.sqlite,
          config: {
            corsOrigins,
            rateLimit: { perMinute: config.apiRateLimit, loopback: config.apiRateLimitLoopback },
            queryBudgetMs: config.apiQueryBudgetMs,
            mcp: {
              allowedOrigins: config.mcpAllowedOrigins,
              // Bound to loopback: only loopback Host names reach /mcp (DNS rebinding).
              loopbackOnly: ["localhost", "::1"].includes(opts.host) || isLoopback(opts.host),
            },
          },
        });
        const server = serve({ fetch: app.fetch, port, hostname: opts.host }, (info) => {
          // The one line scripts wait for: it carries the real port when --port 0 was given.
          process.stdout.write(`mcp-census: serving ${config.dbPath} at http://${opts.host}:${info.port}/v1\n`);
        });
        await new Promise<void>((resolve, reject) => {
          server.once("error", (err: NodeJS.ErrnoException) =>
            reject(new AppError("io_error", `cannot listen on ${opts.host}:${port}: ${err.code ?? err.message}`)),
          );
          const stop = () => server.close(() => resolve());
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
        catalog.close();
      }),
    );
}
