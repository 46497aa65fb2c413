// Parsing of the option values the connector commands share: durations (`10m`, `36h`, `2d`,
// `500ms`), times (ISO 8601 or epoch ms) and numbers, with errors that name the option.

export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `90s`, `10m`, `36h`, `2d`, or a bare number of milliseconds. */
export function parseDuration(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new OptionError(`--${name} ${JSON.stringify(raw)} is not a duration (e.g. 500ms, 90s, 10m, 36h, 2d)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']);
}

/** ISO 8601 (`2025-01-06T00:00:00Z`), a date (`2025-01-06`, UTC) or epoch ms. */
export function parseTime(name: string, raw: string): number {
  const t = /^\d{10,}$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(t)) throw new OptionError(`--${name} ${JSON.stringify(raw)} is not a time (ISO 8601 or epoch ms)`);
  return t;
}

export function parseNumber(name: string, raw: string, { integer = false, min = -Infinity } = {}): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new OptionError(`--${name} ${JSON.stringify(raw)} is not ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}`);
  }
  return n;
}
