import type { Command } from "commander";
import { serveCatalogOverStdio } from "../api/mcp-server.js";
import { action, catalogFor, configFor } from "./common.js";

/** `mcp-census mcp`: the catalog's read-only queries as an MCP server over stdio. */
export function registerMcp(program: Command): void {
  program
    .command("mcp")
    .description(
      "run the catalog as a read-only MCP server over stdio (search_tools, get_server, check_tool, get_policy)",
    )
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const config = configFor(cmd);
        const catalog = catalogFor(config, { mustExist: true, toRead: true });
        await serveCatalogOverStdio(catalog.sqlite);
        catalog.close();
      }),
    );
}
