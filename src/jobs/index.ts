export { LlmUnavailableError, workerClassifier } from "./classifier.js";
export { ids, jobId, newRunKey, runKeyFrom } from "./ids.js";
export { type IngestConsumer, ingestOwner, startIngestConsumer } from "./ingest-consumer.js";
export { enqueueCrawl } from "./producers.js";
export { formatProgress, queueCounts, watchRun } from "./progress.js";
export * from "./queues.js";
export { activeRuns, runState } from "./run-state.js";
export {
  type CrawlSchedule,
  DEFAULT_SCHEDULES,
  listSchedules,
  parseEvery,
  removeSchedule,
  upsertSchedule,
} from "./schedules.js";
export * from "./schemas.js";
export { internalErrorResult, rateLimitDelay, type StageWorkers, startStageWorkers } from "./stage-workers.js";
export { startStatusServer, statusSnapshot } from "./status.js";
export { runWorkerProcess, type WorkerProcessOptions } from "./worker-process.js";
