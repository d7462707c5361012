import type { Queue } from "bullmq";
import { INGEST, JOB_OPTIONS } from "./queues.js";
import { type CrawlJob, CrawlJobSchema, validate } from "./schemas.js";

/** A recurring crawl: a BullMQ job scheduler on the ingest queue producing `crawl` jobs. */
export interface CrawlSchedule {
  name: string;
  /** Interval in ms, or a cron pattern (UTC unless tz). */
  every?: number;
  cron?: string;
  tz?: string;
  job: CrawlJob;
}

/** The schedules `mcp-census schedule` registers by default. */
export const DEFAULT_SCHEDULES: CrawlSchedule[] = [
  {
    name: "official-incremental",
    every: 6 * 3600_000,
    job: { sources: [{ id: "official", incremental: true }] },
  },
  { name: "official-full", cron: "0 3 * * *", tz: "UTC", job: { sources: [{ id: "official" }] } },
];

/** Parses "90s", "30m", "6h", "1d" or plain milliseconds. */
export function parseEvery(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[(m[2] ?? "ms") as "ms"];
  const v = Math.round(Number(m[1]) * unit);
  return v >= 1000 ? v : undefined;
}

/** Creates or updates a schedule (same name: replaced, so registering twice is a no-op). */
export async function upsertSchedule(ingest: Queue, s: CrawlSchedule): Promise<void> {
  const data = validate(CrawlJobSchema, s.job, "crawl");
  await ingest.upsertJobScheduler(
    s.name,
    s.cron ? { pattern: s.cron, ...(s.tz ? { tz: s.tz } : {}) } : { every: s.every ?? 6 * 3600_000 },
    { name: INGEST.crawl, data, opts: { attempts: JOB_OPTIONS.ingest.attempts, backoff: JOB_OPTIONS.ingest.backoff } },
  );
}

export interface ScheduleInfo {
  name: string;
  every?: number;
  cron?: string;
  tz?: string;
  next?: string;
  job: unknown;
}

/** Registered schedules, sorted by name. */
export async function listSchedules(ingest: Queue): Promise<ScheduleInfo[]> {
  const all = await ingest.getJobSchedulers(0, -1, true);
  return all
    .map((s) => ({
      name: s.key,
      ...(s.every ? { every: Number(s.every) } : {}),
      ...(s.pattern ? { cron: s.pattern } : {}),
      ...(s.tz ? { tz: s.tz } : {}),
      ...(s.next ? { next: new Date(s.next).toISOString() } : {}),
      job: s.template?.data,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Removes a schedule; false when there was none by that name. */
export async function removeSchedule(ingest: Queue, name: string): Promise<boolean> {
  return ingest.removeJobScheduler(name);
}
