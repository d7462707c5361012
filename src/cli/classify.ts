import type { Command } from "commander";
import { action, notYet } from "./common.js";

/** Placeholder until the capability lands. */
export function registerClassify(program: Command): void {
  program.command("classify").description("classify tools from JSONL (not available yet)").allowUnknownOption().action(action(notYet("`classify`")));
}
