import type { Queue } from "bullmq";
import { ids, newRunKey } from "./ids.js";
import { INGEST, JOB_OPTIONS } from "./queues.js";
import { type CrawlJob, CrawlJobSchema, validate } from "./schemas.js";

/**
 * Enqueues a crawl run on the ingest queue (its consumer owns the catalog: it discovers, then fans out probe
 * jobs). The job id derives from the run key, so enqueueing the same run twice is a no-op. Returns the run key.
 */
export async function enqueueCrawl(ingest: Queue, job: CrawlJob): Promise<string> {
  const runKey = job.runKey ?? newRunKey();
  const data = validate(CrawlJobSchema, { ...job, runKey }, "crawl");
  await ingest.add(INGEST.crawl, data, { ...JOB_OPTIONS.ingest, jobId: ids.crawl(runKey) });
  return runKey;
}
