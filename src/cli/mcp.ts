import type { Command } from "commander";
import { action, notYet } from "./common.js";

/** Placeholder until the capability lands. */
export function registerMcp(program: Command): void {
  program.command("mcp").description("run the catalog as an MCP server over stdio (not available yet)").allowUnknownOption().action(action(notYet("`mcp`")));
}
