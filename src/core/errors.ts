/** Stable error codes; the table below translates them to exit codes, HTTP statuses and queue retry decisions. */
export const ERROR_CODES = [
  "bad_input",
  "not_found",
  "config_invalid",
  "db_corrupt",
  "db_unwritable",
  "io_error",
  "network",
  "unsupported",
  "internal",
  "rate_limited",
  "unavailable",
  "blocked",
  "too_large",
  "protocol",
  "install_failed",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What each error code means at each edge: the CLI's exit code, the API's HTTP status, and whether a queue retries. */
export interface ErrorMeaning {
  /** 2 bad usage/input or config, 3 not found, 4 storage, 1 anything else. */
  exit: 1 | 2 | 3 | 4;
  http: 400 | 404 | 500 | 501 | 503;
  /** Whether trying the same work again later can succeed (a queue retries it; false fails the job for good). */
  retryable: boolean;
}

/** The one table; every edge reads it. */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorMeaning>> = {
  bad_input: { exit: 2, http: 400, retryable: false },
  not_found: { exit: 3, http: 404, retryable: false },
  config_invalid: { exit: 2, http: 500, retryable: false },
  db_corrupt: { exit: 4, http: 503, retryable: false },
  db_unwritable: { exit: 4, http: 503, retryable: true },
  io_error: { exit: 4, http: 500, retryable: true },
  network: { exit: 1, http: 500, retryable: true },
  unsupported: { exit: 1, http: 501, retryable: false },
  internal: { exit: 1, http: 500, retryable: true },
  /** An upstream (the LLM endpoint, a registry) said 429: wait and try again. */
  rate_limited: { exit: 1, http: 503, retryable: true },
  /** An upstream answered 5xx or timed out after the allowed attempts. */
  unavailable: { exit: 1, http: 503, retryable: true },
  /** The SSRF guard refused a destination (private address, bad scheme, a redirect there): never retried. */
  blocked: { exit: 2, http: 400, retryable: false },
  /** A response or listing was larger than our limit. */
  too_large: { exit: 1, http: 500, retryable: false },
  /** An MCP server broke the protocol (an error answer, a malformed or endless listing, a closed connection). */
  protocol: { exit: 1, http: 500, retryable: false },
  /** A package could not be resolved or installed: the package's outcome, tried again on the next crawl. */
  install_failed: { exit: 1, http: 500, retryable: false },
};

/** An error with a stable code and a one-line message fit to show a user; `cause` keeps what went wrong below. */
export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = "AppError";
  }
  /** Whether trying again later can succeed. */
  get retryable(): boolean {
    return ERROR_TABLE[this.code].retryable;
  }
}

/** The table's row for any thrown value: an AppError's code, else `internal`. */
export function meaningOf(err: unknown): ErrorMeaning {
  return ERROR_TABLE[err instanceof AppError ? err.code : "internal"];
}

/** CLI exit code per error: 2 bad usage/input, 3 not found, 4 storage, 1 anything else. */
export const exitCodeFor = (err: unknown): number => meaningOf(err).exit;

/** HTTP status per error (500 for anything that is not an AppError). */
export const statusFor = (err: unknown): ErrorMeaning["http"] => meaningOf(err).http;

/** Whether a queue should retry the work that threw this. */
export const isRetryable = (err: unknown): boolean => meaningOf(err).retryable;

/** Error codes of a full or failing disk (Node's fs and SQLite's), with what to tell the user. */
const DISK_FAILURES: [RegExp, string][] = [
  [/^(ENOSPC|SQLITE_FULL)$/, "no space left on the device"],
  [/^EDQUOT$/, "disk quota exceeded"],
  [/^EFBIG$/, "file too large for the file system"],
  [/^(EROFS|SQLITE_READONLY.*)$/, "read-only file system"],
  [/^(EIO|SQLITE_IOERR.*)$/, "input/output error"],
];

/**
 * A disk-level failure (full, quota, read-only, I/O error) of writing `file` as a storage error (exit 4) that names
 * the file; undefined for anything else. `file` defaults to the path the error itself carries (fs errors do).
 */
export function storageError(err: unknown, file?: string): AppError | undefined {
  if (err instanceof AppError) return undefined;
  const e = err as { code?: unknown; path?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : undefined;
  const what = code ? DISK_FAILURES.find(([re]) => re.test(code))?.[1] : undefined;
  if (!code || !what) return undefined;
  const where = file ?? (typeof e?.path === "string" ? e.path : undefined);
  return new AppError("io_error", `${where ? `cannot write ${where}` : "cannot write"}: ${what} (${code})`, {
    cause: err,
  });
}

/** One line describing an error, without a stack trace. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s+/g, " ").trim().slice(0, 500);
}
