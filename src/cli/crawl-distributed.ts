import type { Command } from "commander";
import type { ResolvedConfig } from "../core/config.js";
import { AppError } from "../core/errors.js";

/** Placeholder until the distributed mode lands. */
export async function runDistributedCrawl(_cmd: Command, _config: ResolvedConfig, _flags: unknown): Promise<void> {
  throw new AppError("unsupported", "the distributed crawl (--distributed / REDIS_URL) is not available yet");
}
