import { describe, expect, it } from "vitest";
import { ApiError, statusFor as apiStatusFor } from "../../src/api/errors.js";
import { LlmUnavailableError } from "../../src/classify/llm.js";
import { AppError, ERROR_CODES, ERROR_TABLE, exitCodeFor, isRetryable, statusFor } from "../../src/core/errors.js";
import { ListingError } from "../../src/mcp/listing.js";
import { InstallError } from "../../src/mcp/npm-install.js";
import { PythonMissingError } from "../../src/mcp/pypi-install.js";
import { ConnectionClosedError, RpcError } from "../../src/mcp/rpc-session.js";
import { BlockedDestinationError, ResponseTooLargeError } from "../../src/mcp/ssrf.js";
import { QueryBudgetExceeded } from "../../src/store/api.js";

describe("the error table", () => {
  it("has one row per error code, and every edge reads it", () => {
    expect(Object.keys(ERROR_TABLE).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const err = new AppError(code, "x");
      expect(exitCodeFor(err), code).toBe(ERROR_TABLE[code].exit);
      expect(statusFor(err), code).toBe(ERROR_TABLE[code].http);
      expect(apiStatusFor(err), code).toBe(ERROR_TABLE[code].http);
      expect(isRetryable(err), code).toBe(ERROR_TABLE[code].retryable);
      expect(err.retryable, code).toBe(ERROR_TABLE[code].retryable);
    }
  });

  it("keeps the documented exit codes and statuses", () => {
    // The CLI's help promises: 2 bad input or config, 3 not found, 4 storage error, 1 anything else.
    expect(exitCodeFor(new AppError("bad_input", "x"))).toBe(2);
    expect(exitCodeFor(new AppError("config_invalid", "x"))).toBe(2);
    expect(exitCodeFor(new AppError("not_found", "x"))).toBe(3);
    expect(exitCodeFor(new AppError("db_unwritable", "x"))).toBe(4);
    expect(exitCodeFor(new Error("boom"))).toBe(1);
    expect(statusFor(new ApiError("bad_input", "x", "limit"))).toBe(400);
    expect(statusFor(new AppError("unsupported", "x"))).toBe(501);
    expect(statusFor(new AppError("db_corrupt", "x"))).toBe(503);
    expect(statusFor("not even an error")).toBe(500);
    expect(isRetryable(new AppError("bad_input", "x"))).toBe(false);
    expect(isRetryable(new AppError("network", "x"))).toBe(true);
  });

  it("keeps the cause", () => {
    const cause = new Error("ENOSPC");
    const err = new AppError("io_error", "cannot write", { cause });
    expect(err.cause).toBe(cause);
  });

  it("every error class is in the taxonomy: a code with a table row, a name, and the cause kept", () => {
    const cause = new Error("below");
    const cases: [AppError, string, boolean][] = [
      [new LlmUnavailableError(429, 7000, { cause }), "rate_limited", true],
      [new LlmUnavailableError(503), "unavailable", true],
      [new InstallError("npm install x timed out", { cause }), "install_failed", false],
      [new PythonMissingError("cannot run python3", { cause }), "unsupported", false],
      [new BlockedDestinationError("10.0.0.1 is private", { cause }), "blocked", false],
      [new ResponseTooLargeError("more than 1 MiB", { cause }), "too_large", false],
      [new RpcError(-32601, "Method not found"), "protocol", false],
      [new ConnectionClosedError("connection closed", { cause }), "protocol", false],
      [new ListingError("tools/list repeated cursor", { cause }), "protocol", false],
      [new QueryBudgetExceeded(2000), "unavailable", true],
    ];
    for (const [err, code, retryable] of cases) {
      expect(err).toBeInstanceOf(AppError);
      expect(err.code, err.name).toBe(code);
      expect(ERROR_TABLE[err.code], err.name).toBeDefined();
      expect(isRetryable(err), err.name).toBe(retryable);
      expect(err.name, err.name).not.toBe("AppError");
      if (
        !["RpcError", "QueryBudgetExceeded"].includes(err.name) &&
        !(err instanceof LlmUnavailableError && err.status === 503)
      )
        expect(err.cause, err.name).toBe(cause);
    }
    expect(new RpcError(-32601, "x").rpcCode).toBe(-32601);
  });
});
