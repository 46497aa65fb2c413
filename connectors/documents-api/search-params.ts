// Search parameters from a query string (GET /v1/search) or CLI flags (documents search), checked
// into a SearchQuery: the same names and the same 400-worthy reasons for both.
import { MAX_SEARCH_LIMIT, type DocumentStatus, type SearchQuery } from '../document-index/document-index.ts';

export const SEARCH_PARAMS = ['party', 'law', 'type', 'from', 'to', 'date_label', 'amount_min', 'amount_max', 'currency', 'q', 'status', 'limit', 'offset'] as const;
const STATUSES: DocumentStatus[] = ['queued', 'done', 'rejected'];
const MAX_OFFSET = 10_000;
const MAX_TEXT = 200;

export class SearchParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchParamError';
  }
}

/** A real calendar date in ISO form (2021-02-30 is refused). */
function isoDate(name: string, v: string): string {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const t = d ? Date.UTC(+d[1], +d[2] - 1, +d[3]) : NaN;
  if (!d || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== v) throw new SearchParamError(`${name}=${JSON.stringify(v)} must be a date YYYY-MM-DD`);
  return v;
}

function number(name: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new SearchParamError(`${name}=${JSON.stringify(v)} must be a number`);
  return n;
}

function integer(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new SearchParamError(`${name}=${JSON.stringify(v)} must be a whole number from ${min} to ${max}`);
  return n;
}

/** `params` as name -> value (first value of a repeated name). Unknown names are refused, so a typo is not silently ignored. */
export function parseSearchParams(params: Iterable<[string, string]>): SearchQuery {
  const q: SearchQuery = {};
  const seen = new Set<string>();
  for (const [name, raw] of params) {
    if (seen.has(name)) continue;
    seen.add(name);
    if (!(SEARCH_PARAMS as readonly string[]).includes(name)) throw new SearchParamError(`unknown search parameter ${JSON.stringify(name)}; use ${SEARCH_PARAMS.join(', ')}`);
    const v = raw.trim();
    if (v.length > MAX_TEXT) throw new SearchParamError(`${name} is longer than ${MAX_TEXT} characters`);
    switch (name) {
      case 'party':
      case 'law':
      case 'type':
      case 'q':
        if (v === '') throw new SearchParamError(`${name} is empty`);
        q[name] = v;
        break;
      case 'from':
      case 'to':
        q[name] = isoDate(name, v);
        break;
      case 'date_label':
        if (!/^[A-Za-z_]+_DATE$/i.test(v)) throw new SearchParamError(`date_label=${JSON.stringify(v)} must be a date label such as EFFECTIVE_DATE`);
        q.dateLabel = v.toUpperCase();
        break;
      case 'amount_min':
        q.amountMin = number(name, v);
        break;
      case 'amount_max':
        q.amountMax = number(name, v);
        break;
      case 'currency':
        if (!/^[A-Za-z]{3}$/.test(v)) throw new SearchParamError(`currency=${JSON.stringify(v)} must be an ISO 4217 code such as USD`);
        q.currency = v.toUpperCase();
        break;
      case 'status':
        if (!(STATUSES as string[]).includes(v)) throw new SearchParamError(`status=${JSON.stringify(v)} must be one of ${STATUSES.join(', ')}`);
        q.status = v as DocumentStatus;
        break;
      case 'limit':
        q.limit = integer(name, v, 1, MAX_SEARCH_LIMIT);
        break;
      case 'offset':
        q.offset = integer(name, v, 0, MAX_OFFSET);
        break;
    }
  }
  if (q.from && q.to && q.from > q.to) throw new SearchParamError(`from ${q.from} is after to ${q.to}`);
  if (q.amountMin !== undefined && q.amountMax !== undefined && q.amountMin > q.amountMax) throw new SearchParamError(`amount_min ${q.amountMin} is above amount_max ${q.amountMax}`);
  return q;
}

/** CLI flags (--party X --amount-min 5 ...) as parameter pairs; dashes in names become underscores. */
export function flagsToParams(args: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new SearchParamError(`unexpected argument ${JSON.stringify(arg)}; flags are --name value`);
    const eq = arg.indexOf('=');
    const name = (eq > 0 ? arg.slice(2, eq) : arg.slice(2)).replaceAll('-', '_');
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new SearchParamError(`--${name.replaceAll('_', '-')} needs a value`);
    pairs.push([name, value]);
  }
  return pairs;
}
