// Errors of the local stack. Each carries the service it concerns (if any) and, where there is one,
// the fix the user should apply, so the CLI prints one clear message instead of a stack trace.

export type ServiceName = 'kafka' | 'schema-registry' | 'redis' | 'mlflow';

export class StackError extends Error {
  readonly service: ServiceName | undefined;
  readonly hint: string | undefined;

  constructor(message: string, options: { service?: ServiceName; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StackError';
    this.service = options.service;
    this.hint = options.hint;
  }
}

/** Invalid environment: every problem found, reported at once. */
export class ConfigError extends StackError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
