// Errors of the HTTP layer. An HttpError becomes the JSON reply `{error, details}` with its status;
// anything else thrown by a handler is an internal error: logged with its stack, answered 500
// without one.

export class HttpError extends Error {
  readonly status: number;
  readonly details: string[];
  /** Extra response headers, e.g. Retry-After, WWW-Authenticate, Allow. */
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, options: { details?: string[]; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.details = options.details ?? [];
    this.headers = options.headers ?? {};
  }
}

/** The API keys file is missing, unreadable or not in the expected shape; `hint` says what to do. */
export class ApiKeyFileError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'ApiKeyFileError';
    this.hint = hint;
  }
}

/** An API cannot start as configured (e.g. no keys on a non-loopback host); `hint` says what to do. */
export class ApiConfigError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'ApiConfigError';
    this.hint = hint;
  }
}
