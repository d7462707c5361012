import { randomBytes } from "node:crypto";

/**
 * One job id from its parts. BullMQ forbids ':' in custom ids and treats all-digit ids as its own counters, so
 * every character outside [A-Za-z0-9_.] is escaped as `~hh` and parts are joined with '-' (never produced by the
 * escape), which keeps distinct inputs distinct: enqueueing the same work twice is a no-op, different work never
 * collides.
 */
export function jobId(...parts: (string | number)[]): string {
  const id = parts
    .map((p) => String(p).replace(/[^A-Za-z0-9_.]/g, (c) => `~${c.charCodeAt(0).toString(16).padStart(2, "0")}`))
    .join("-");
  return /^\d*$/.test(id) ? `j-${id}` : id;
}

/** Deterministic ids of every job a crawl run creates (one per server and stage). */
export const ids = {
  crawl: (runKey: string) => jobId("crawl", runKey),
  probe: (runKey: string, serverId: number) => jobId("probe", runKey, serverId),
  probed: (runKey: string, serverId: number) => jobId("probed", runKey, serverId),
  classify: (runKey: string, serverId: number) => jobId("classify", runKey, serverId),
  classified: (runKey: string, serverId: number) => jobId("classified", runKey, serverId),
  stageFailed: (stage: string, runKey: string, serverId: number) => jobId("failed", stage, runKey, serverId),
  finish: (runKey: string) => jobId("finish", runKey),
};

/** A fresh run key for a crawl started by hand (scheduled runs derive theirs from the scheduler's job id). */
export function newRunKey(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[^0-9]/g, "")
    .slice(0, 14);
  return `r${stamp}_${randomBytes(4).toString("hex")}`;
}

/** A run key from any string (e.g. a scheduler-made job id with ':' in it). */
export function runKeyFrom(s: string): string {
  return jobId(s);
}
