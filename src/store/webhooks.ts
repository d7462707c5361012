import { and, asc, count, eq, gte, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { changeSelect, type StoredChange } from "./changes.js";
import { orm, type Sqlite } from "./db.js";
import { changes, webhookDeliveries as deliveries, servers } from "./schema.js";

/** A delivery due to be (re)sent. */
export interface DueDelivery {
  id: number;
  url: string;
  attempts: number;
  next_attempt_at: string | null;
}

/** The webhook_deliveries table's operations for one delivery run, on drizzle's query builder. */
export function webhookDeliveries(sqlite: Sqlite, urls: string[]) {
  const db = orm(sqlite);
  return {
    /** Creates a pending delivery per URL for each change of these severities at or after `oldest` (once each). */
    enqueue(nowIso: string, severities: readonly string[], oldest: string): void {
      db.transaction((tx) => {
        for (const url of urls) {
          tx.insert(deliveries)
            .select(
              tx
                .select({
                  id: sql<number>`NULL`.as("id"),
                  changeId: changes.id,
                  url: sql<string>`${url}`.as("url"),
                  status: sql<string>`'pending'`.as("status"),
                  attempts: sql<number>`0`.as("attempts"),
                  lastError: sql<string | null>`NULL`.as("last_error"),
                  nextAttemptAt: sql<string>`${nowIso}`.as("next_attempt_at"),
                  claimedAt: sql<string | null>`NULL`.as("claimed_at"),
                  deliveredAt: sql<string | null>`NULL`.as("delivered_at"),
                })
                .from(changes)
                .where(and(inArray(changes.severity, [...severities]), gte(changes.at, oldest))),
            )
            .onConflictDoNothing({ target: [deliveries.changeId, deliveries.url] })
            .run();
        }
      });
    },
    /** Claims a delivery (pending, or sending but claimed before `staleBefore`); false when another process has it. */
    claim: (id: number, nowIso: string, staleBefore: string): boolean =>
      db
        .update(deliveries)
        .set({ status: "sending", claimedAt: nowIso })
        .where(
          and(
            eq(deliveries.id, id),
            or(
              eq(deliveries.status, "pending"),
              and(eq(deliveries.status, "sending"), lt(deliveries.claimedAt, staleBefore)),
            ),
          ),
        )
        .run().changes > 0,
    delivered: (id: number, attempts: number, nowIso: string): void => {
      db.update(deliveries)
        .set({ status: "delivered", attempts, deliveredAt: nowIso, lastError: null })
        .where(eq(deliveries.id, id))
        .run();
    },
    /** Records a failed attempt: `pending` again with the next attempt's time, or `failed` for good. */
    failedAttempt: (
      id: number,
      status: "pending" | "failed",
      attempts: number,
      error: string,
      next: string | null,
    ): void => {
      db.update(deliveries)
        .set({ status, attempts, lastError: error, nextAttemptAt: next, claimedAt: null })
        .where(eq(deliveries.id, id))
        .run();
    },
    /** Deliveries due now (pending and due, or claimed before `staleBefore`), in change order. */
    due: (nowIso: string, staleBefore: string): DueDelivery[] =>
      db
        .select({
          id: deliveries.id,
          url: deliveries.url,
          attempts: deliveries.attempts,
          next_attempt_at: deliveries.nextAttemptAt,
        })
        .from(deliveries)
        .where(
          and(
            or(
              and(
                eq(deliveries.status, "pending"),
                or(isNull(deliveries.nextAttemptAt), lte(deliveries.nextAttemptAt, nowIso)),
              ),
              and(eq(deliveries.status, "sending"), lt(deliveries.claimedAt, staleBefore)),
            ),
            inArray(deliveries.url, urls),
          ),
        )
        .orderBy(asc(deliveries.changeId), asc(deliveries.url))
        .all(),
    /** The change a delivery sends. */
    changeOf: <C extends StoredChange>(id: number): C =>
      db
        .select(changeSelect)
        .from(deliveries)
        .innerJoin(changes, eq(changes.id, deliveries.changeId))
        .innerJoin(servers, eq(servers.id, changes.serverId))
        .where(eq(deliveries.id, id))
        .get() as C,
    /** Deliveries still pending or in flight. */
    pending: (): number =>
      db
        .select({ n: count() })
        .from(deliveries)
        .where(and(inArray(deliveries.status, ["pending", "sending"]), inArray(deliveries.url, urls)))
        .get()?.n ?? 0,
  };
}
