import type { StoredChange } from "../store/changes.js";
import type { ChangeDetails, ChangeKind, Severity } from "./diff.js";

/** One recorded change of one tool, as the API, CLI, feeds and webhooks show it. */
export type ChangeEvent = StoredChange<ChangeKind, Severity, ChangeDetails>;
