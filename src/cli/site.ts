import type { Command } from "commander";
import { action, notYet } from "./common.js";

/** Placeholder until the capability lands. */
export function registerSite(program: Command): void {
  program.command("site").description("build the static site (not available yet)").allowUnknownOption().action(action(notYet("`site`")));
}
