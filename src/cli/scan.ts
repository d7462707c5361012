import type { Command } from "commander";
import { action, notYet } from "./common.js";

/** Placeholder until the capability lands. */
export function registerScan(program: Command): void {
  program.command("scan").description("scan your MCP client configuration (not available yet)").allowUnknownOption().action(action(notYet("`scan`")));
}
