import type { Command } from "commander";
import { action, notYet } from "./common.js";

/** Placeholder until the capability lands. */
export function registerWorker(program: Command): void {
  program.command("worker").description("run BullMQ workers (not available yet)").allowUnknownOption().action(action(notYet("`worker`")));
}
