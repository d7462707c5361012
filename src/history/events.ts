import { type StoredChange, toStoredChange } from "../store/changes.js";
import type { ChangeDetails, ChangeKind, Severity } from "./diff.js";

/** One recorded change of one tool, as the API, CLI, feeds and webhooks show it. */
export type ChangeEvent = StoredChange<ChangeKind, Severity, ChangeDetails>;

export { CHANGE_COLUMNS } from "../store/changes.js";

/** Maps a row selected with CHANGE_COLUMNS. */
export const toChangeEvent = (r: Record<string, unknown>): ChangeEvent => toStoredChange<ChangeEvent>(r);
