import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; LOG_LEVEL picks the level. Each processor logs with `processor` bound. */
export function createLogger(bindings: Record<string, unknown> = {}): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'info', base: { pid: process.pid, ...bindings } });
}
