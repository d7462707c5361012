import { AppError, type ErrorCode } from "../core/errors.js";

/** An error the API answers with a status of its own; `parameter` names the query or path parameter at fault. */
export class ApiError extends AppError {
  readonly parameter: string | undefined;
  constructor(code: ErrorCode, message: string, parameter?: string) {
    super(code, message);
    this.parameter = parameter;
    this.name = "ApiError";
  }
}

export { statusFor } from "../core/errors.js";
