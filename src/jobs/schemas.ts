import { UnrecoverableError } from "bullmq";
import { z } from "zod";
import { ServerEntrySchema } from "../core/types.js";
import { ProbeOutcomeSchema, ClassificationSchema as StoredClassification } from "../core/vocabulary.js";

/*
 * Payload schemas of every job. They validate only: handlers keep the original (JSON-decoded) object, so tool
 * definitions keep their key order and no default sneaks in — the catalog stores exactly what the server sent.
 */

const RunKey = z.string().regex(/^[A-Za-z0-9_.~-]{1,200}$/, "run key: letters, digits, _ . ~ - only");
const Id = z.number().int().positive();

const ToolSchema = z.looseObject({ name: z.string() });
const Loose = z.looseObject({});

export const ProbeResultSchema = z.looseObject({
  outcome: ProbeOutcomeSchema,
  transport: z.string(),
  launch: z.record(z.string(), z.unknown()),
  error: z.string().optional(),
  stderrTail: z.string().optional(),
  startedAt: z.string(),
  durationMs: z.number(),
  timings: z.record(z.string(), z.unknown()),
  tools: z.array(ToolSchema),
  prompts: z.array(Loose),
  resources: z.array(Loose),
  resourceTemplates: z.array(Loose),
  placeholders: z.array(z.string()),
  warnings: z.array(z.string()),
});

export const ClassificationSchema = StoredClassification.loose();

const DeltaSchema = z.object({ name: z.string(), from: z.string().nullable(), to: z.string().nullable() });
export const IngestResultSchema = z.object({
  probeId: Id,
  added: z.array(DeltaSchema),
  removed: z.array(DeltaSchema),
  changed: z.array(DeltaSchema),
  unchanged: z.number().int(),
  newVersions: z.number().int(),
});

/** Per-server figures carried along the stages and added to the run's totals once, when the server is done. */
export const ServerStatsSchema = z.object({
  outcome: ProbeOutcomeSchema,
  tools: z.number().int(),
  added: z.number().int(),
  removed: z.number().int(),
  changed: z.number().int(),
  newVersions: z.number().int(),
  /** Change events the ingest recorded (in the same transaction as the listing). */
  changes: z.number().int().optional(),
  error: z.string().optional(),
});
export type ServerStats = z.infer<typeof ServerStatsSchema>;

export const CrawlSourceSchema = z.object({
  id: z.string().min(1),
  baseUrl: z.string().optional(),
  path: z.string().optional(),
  incremental: z.boolean().optional(),
});

/** Start a crawl run (discovery runs in the ingest consumer: it writes the catalog). Secrets never ride in Redis. */
export const CrawlJobSchema = z.object({
  runKey: RunKey.optional(),
  sources: z.array(CrawlSourceSchema).optional(),
  probe: z.boolean().optional(),
  only: z.array(z.string()).optional(),
  /** Probe every server, even those whose last listing could be reused (crawl --reprobe). */
  reprobe: z.boolean().optional(),
  outputs: z.boolean().optional(),
  maxPages: z.number().int().positive().optional(),
});
export type CrawlJob = z.infer<typeof CrawlJobSchema>;

const ServerRef = { runKey: RunKey, serverId: Id, server: z.string().min(1) };

export const ProbeJobSchema = z.object({ ...ServerRef, entry: ServerEntrySchema });
export type ProbeJob = z.infer<typeof ProbeJobSchema>;

export const ProbedJobSchema = z.object({ ...ServerRef, result: ProbeResultSchema });
export type ProbedJob = z.infer<typeof ProbedJobSchema>;

const ClassifyItemSchema = z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), server: z.string(), raw: ToolSchema });

export const ClassifyJobSchema = z.object({
  ...ServerRef,
  items: z.array(ClassifyItemSchema),
  ingest: IngestResultSchema,
  stats: ServerStatsSchema,
});
export type ClassifyJob = z.infer<typeof ClassifyJobSchema>;

export const ClassifiedJobSchema = ClassifyJobSchema.extend({
  results: z.array(z.object({ hash: z.string(), classification: ClassificationSchema })),
});
export type ClassifiedJob = z.infer<typeof ClassifiedJobSchema>;

/** A probe or classify job that ended failed: the ingest consumer records it so the run still completes. */
export const StageFailedJobSchema = z.object({
  ...ServerRef,
  stage: z.enum(["probe", "classify", "ingest"]),
  reason: z.string(),
  ingest: IngestResultSchema.optional(),
  stats: ServerStatsSchema.optional(),
});
export type StageFailedJob = z.infer<typeof StageFailedJobSchema>;

export const FinishJobSchema = z.object({ runKey: RunKey });

/**
 * Validates a payload and returns it unchanged. A payload that does not match can never succeed, so it fails
 * at once (UnrecoverableError) with the first problem as its reason instead of burning retries.
 */
export function validate<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UnrecoverableError(
      `invalid ${what} payload: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return data as z.infer<S>;
}
