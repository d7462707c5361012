import type { Command } from "commander";
import { action, notYet } from "./common.js";

/** Placeholder until the capability lands. */
export function registerServe(program: Command): void {
  program.command("serve").description("serve the HTTP catalog API (not available yet)").allowUnknownOption().action(action(notYet("`serve`")));
}
