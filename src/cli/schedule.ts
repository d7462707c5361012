import type { Command } from "commander";
import { AppError } from "../core/errors.js";
import { closeQueues, createRedis, openQueues } from "../jobs/queues.js";
import {
  type CrawlSchedule,
  DEFAULT_SCHEDULES,
  listSchedules,
  parseEvery,
  removeSchedule,
  upsertSchedule,
} from "../jobs/schedules.js";
import { action, configFor, type GlobalOptions, wantsJson } from "./common.js";

interface ScheduleFlags {
  list?: boolean;
  remove?: string;
  name?: string;
  every?: string;
  cron?: string;
  tz?: string;
  source?: string[];
  incremental?: boolean;
  outputs: boolean;
}

function describe(s: {
  name: string;
  every?: number;
  cron?: string;
  tz?: string;
  next?: string;
  job: unknown;
}): string {
  const when = s.cron
    ? `cron "${s.cron}"${s.tz ? ` ${s.tz}` : ""}`
    : `every ${((s.every ?? 0) / 3600_000).toFixed(2).replace(/\.?0+$/, "")} h`;
  const job = s.job as { sources?: { id: string; incremental?: boolean }[] } | undefined;
  const sources = (job?.sources ?? [{ id: "seed" }])
    .map((x) => `${x.id}${x.incremental ? " (incremental)" : ""}`)
    .join(", ");
  return `${s.name}: ${when}, ${sources}${s.next ? `, next ${s.next}` : ""}`;
}

/** `mcp-census schedule`: recurring distributed crawls (BullMQ job schedulers; run by the ingest consumer). */
export function registerSchedule(program: Command): void {
  program
    .command("schedule")
    .description(
      "register recurring crawls on Redis (default: official registry incremental every 6 h, full daily at 03:00\n" +
        "UTC); they run when a `mcp-census worker --queues ingest` process is up",
    )
    .option("--list", "show the registered schedules")
    .option("--remove <name>", "remove a schedule")
    .option("--name <name>", "register one schedule under this name instead of the defaults")
    .option("--every <interval>", "with --name: interval such as 30m, 6h, 1d")
    .option("--cron <pattern>", "with --name: cron pattern")
    .option("--tz <zone>", "time zone of --cron (default UTC)")
    .option("-s, --source <id...>", "with --name: sources to crawl")
    .option("--incremental", "with --name: only what changed since the last crawl")
    .option("--no-outputs", "with --name: do not write policies and the site after each crawl")
    .action(
      action(async (flags: ScheduleFlags, cmd: Command) => {
        const config = configFor(cmd);
        if (!config.redisUrl) throw new AppError("config_invalid", "schedules live in Redis: set REDIS_URL");
        const quiet = !!(cmd.optsWithGlobals() as GlobalOptions).quiet;
        const redis = createRedis(config.redisUrl, `mcp-census-schedule-${process.pid}`);
        const queues = openQueues(redis, config.queuePrefix);
        const out = (l: string) => {
          if (!quiet) process.stdout.write(`${l}\n`);
        };
        try {
          if (flags.remove) {
            if (!(await removeSchedule(queues.ingest, flags.remove))) {
              throw new AppError("not_found", `no schedule named "${flags.remove.slice(0, 80)}"`);
            }
            out(`removed schedule ${flags.remove}`);
            return;
          }
          if (!flags.list) {
            let todo: CrawlSchedule[] = DEFAULT_SCHEDULES;
            if (flags.name) {
              if (!/^[A-Za-z0-9_.-]{1,80}$/.test(flags.name)) {
                throw new AppError("bad_input", "--name: letters, digits, _ . - only (up to 80)");
              }
              if (!!flags.every === !!flags.cron)
                throw new AppError("bad_input", "give exactly one of --every and --cron");
              const every = flags.every ? parseEvery(flags.every) : undefined;
              if (flags.every && every === undefined) {
                throw new AppError(
                  "bad_input",
                  `--every must look like 30m, 6h or 1d (at least 1 s), got "${flags.every}"`,
                );
              }
              todo = [
                {
                  name: flags.name,
                  ...(every ? { every } : {}),
                  ...(flags.cron ? { cron: flags.cron, tz: flags.tz ?? "UTC" } : {}),
                  job: {
                    sources: (flags.source ?? ["official"]).map((id) => ({
                      id,
                      ...(flags.incremental ? { incremental: true } : {}),
                    })),
                    ...(flags.outputs === false ? { outputs: false } : {}),
                  },
                },
              ];
            }
            for (const s of todo) {
              try {
                await upsertSchedule(queues.ingest, s);
              } catch (err) {
                throw new AppError("bad_input", `schedule ${s.name}: ${(err as Error).message}`);
              }
            }
          }
          const list = await listSchedules(queues.ingest);
          if (wantsJson(cmd)) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
          else if (list.length === 0) out("no schedules registered");
          else for (const s of list) out(describe(s));
        } finally {
          await closeQueues(queues);
          await redis.quit().catch(() => redis.disconnect());
        }
      }),
    );
}
