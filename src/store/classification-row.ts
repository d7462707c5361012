import type { Classification } from "../core/types.js";
import type { classifications } from "./schema.js";

/** The columns of a stored classification that make a Classification. */
export type ClassificationColumns = Pick<
  typeof classifications.$inferSelect,
  | "access"
  | "destructive"
  | "financial"
  | "category"
  | "risk"
  | "confidence"
  | "signals"
  | "flags"
  | "source"
  | "classifierVersion"
>;

/** A stored classification row as the Classification it was saved from (the enum columns are stored as text). */
export function classificationOf(c: ClassificationColumns): Classification {
  return {
    access: c.access as Classification["access"],
    destructive: c.destructive,
    financial: c.financial,
    category: c.category as Classification["category"],
    risk: c.risk as Classification["risk"],
    confidence: c.confidence,
    signals: c.signals,
    flags: c.flags,
    source: c.source,
    classifierVersion: c.classifierVersion,
  };
}
