import type { Command } from "commander";
import { action, notYet } from "./common.js";

/** Placeholder until the capability lands. */
export function registerPolicy(program: Command): void {
  program.command("policy").description("generate a recommended policy for a server (not available yet)").allowUnknownOption().action(action(notYet("`policy`")));
}
