// Customer mappings: how another operator's churn table (one row per customer) becomes BillingEvent
// histories, as a JSON file (connectors/mappings/customers/*.json) instead of code. JSON Schema
// (customer-mapping.schema.json, checked with ajv) holds the shape; the checks below hold what a
// schema cannot say (a real cut-off date, charges that add up, one rate per event type, templates
// that name columns), and every problem is named at once so a user fixes a mapping in one pass, as
// with plant profiles (schemas/factory/plant-profile.ts). docs/customer-tables.md has the fields.
import { jsonConfig } from '../../schemas/json-config.ts';
import type { PaymentMethod } from './billing-events.ts';

/** A column whose allowed values each stand for a number. */
export interface Lookup {
  column: string;
  values: Record<string, number>;
}

/** Usage drawn day by day from a rate (the IBM Telco table has services, not usage figures). */
export interface RateUsage {
  event: 'CALL' | 'DATA_SESSION';
  /** Events a day; 0 = the customer has no such service. */
  per_day: Lookup;
  /** Median call seconds or session MB (log-normal around it). */
  median: number | Lookup;
  /** Add-on columns (e.g. streaming): each equal to `when` adds `per_day` and multiplies the median. */
  extras?: { columns: string[]; when: string; per_day: number; median_factor: number };
}

export type UsagePeriod = 'day' | 'evening' | 'night' | 'intl' | 'any';

/** Usage given as totals over the usage window (the BigML/Orange table: minutes and calls by period). */
export interface TotalUsage {
  event: 'CALL' | 'DATA_SESSION';
  period: UsagePeriod;
  count: string;
  minutes?: string;
  mb?: string;
}

export interface CustomerMapping {
  name: string;
  description?: string;
  source?: { format?: 'csv'; delimiter?: string };
  event_id_prefix: string;
  customer_id: string;
  account_opened?: boolean;
  tenure: { column: string; unit: 'months' | 'days' };
  plan?: { template: string; values?: Record<string, Record<string, string>> };
  payment_method?: { column: string; values: Record<string, PaymentMethod> };
  charges: { monthly?: string; total?: string; columns_summed?: string[] };
  usage: { window_days: number; rates?: RateUsage[]; totals?: TotalUsage[] };
  complaints?: { column: string; category: string };
  churn: { column: string; true: string[]; false: string[] };
  currency: string;
  cutoff: string;
}

export class CustomerMappingError extends Error {
  readonly mapping: string;
  readonly problems: string[];
  constructor(mapping: string, problems: string[]) {
    super(`customer mapping ${mapping} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CustomerMappingError';
    this.mapping = mapping;
    this.problems = problems;
  }
}

/** The placeholder of a template that stands for the data row number (tables with no customer id). */
export const ROW_PLACEHOLDER = '_row';
const PLACEHOLDER = /\{([^{}]+)\}/g;

/** The names inside `{...}` of a template, in order. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Fills a template's placeholders from `value(name)`. */
export function fillTemplate(template: string, value: (name: string) => string): string {
  return template.replace(PLACEHOLDER, (_, name: string) => value(name));
}

function isDate(s: string): boolean {
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === s;
}

/** The checks JSON Schema cannot express, on a mapping of the right shape. */
function semanticProblems(m: CustomerMapping): string[] {
  const problems: string[] = [];
  if (!isDate(m.cutoff)) problems.push(`cutoff ${JSON.stringify(m.cutoff)} is not a date`);
  const idNames = placeholders(m.customer_id);
  if (idNames.length === 0) problems.push(`customer_id ${JSON.stringify(m.customer_id)} names no column: every customer would get the same id (use {${ROW_PLACEHOLDER}} when the table has none)`);
  if (m.plan) {
    const names = placeholders(m.plan.template);
    if (names.length === 0) problems.push(`plan.template ${JSON.stringify(m.plan.template)} names no column`);
    if (names.includes(ROW_PLACEHOLDER)) problems.push(`plan.template: {${ROW_PLACEHOLDER}} would give every customer a plan of their own`);
    for (const c of Object.keys(m.plan.values ?? {})) if (!names.includes(c)) problems.push(`plan.values has ${JSON.stringify(c)}, which plan.template does not use`);
  }
  const c = m.charges;
  if ((c.monthly === undefined) === (c.columns_summed === undefined)) problems.push('charges needs exactly one of monthly and columns_summed');
  if (c.total !== undefined && c.monthly === undefined) problems.push('charges.total needs charges.monthly (the last bill)');
  if (c.total !== undefined && m.tenure.unit !== 'months') problems.push('charges.total is shared over monthly bills: it needs tenure.unit "months"');
  for (const event of ['CALL', 'DATA_SESSION'] as const) {
    if ((m.usage.rates ?? []).filter((r) => r.event === event).length > 1) problems.push(`usage.rates has more than one ${event} rate (one per event type: they share its random streams)`);
  }
  const totalKeys = (m.usage.totals ?? []).map((t) => `${t.event} ${t.period}`);
  for (const k of new Set(totalKeys.filter((x, i) => totalKeys.indexOf(x) !== i))) problems.push(`usage.totals has more than one ${k} total (their events would share ids)`);
  (m.usage.totals ?? []).forEach((t, i) => {
    if (t.event === 'CALL' && t.mb !== undefined) problems.push(`usage.totals[${i}]: a CALL total has minutes, not mb`);
    if (t.event === 'DATA_SESSION' && t.minutes !== undefined) problems.push(`usage.totals[${i}]: a DATA_SESSION total has mb, not minutes`);
  });
  if (!(m.usage.rates?.length || m.usage.totals?.length)) problems.push('usage needs rates or totals (or both)');
  const both = m.churn.true.filter((v) => m.churn.false.includes(v));
  if (both.length) problems.push(`churn: ${both.map((v) => JSON.stringify(v)).join(', ')} is listed as both true and false`);
  return problems;
}

const mappings = jsonConfig<CustomerMapping>({
  schema: new URL('./customer-mapping.schema.json', import.meta.url),
  semanticProblems,
  error: (name, problems) => new CustomerMappingError(name, problems),
  root: '(mapping)',
});

/** Checks a parsed mapping; throws CustomerMappingError naming every problem. */
export function parseCustomerMapping(raw: unknown, name = 'mapping'): CustomerMapping {
  return mappings.parse(raw, name);
}

/** Reads and checks a mapping file. */
export function loadCustomerMapping(file: string): CustomerMapping {
  return mappings.load(file);
}

/** Every table column the mapping reads, once each, in the order the mapping names them. */
export function mappedColumns(m: CustomerMapping): string[] {
  const columns = [
    ...placeholders(m.customer_id), m.tenure.column, ...(m.plan ? placeholders(m.plan.template) : []),
    ...(m.payment_method ? [m.payment_method.column] : []),
    ...[m.charges.monthly, m.charges.total, ...(m.charges.columns_summed ?? [])].filter((x): x is string => x !== undefined),
    ...(m.usage.rates ?? []).flatMap((r) => [r.per_day.column, ...(typeof r.median === 'number' ? [] : [r.median.column]), ...(r.extras?.columns ?? [])]),
    ...(m.usage.totals ?? []).flatMap((t) => [t.count, t.minutes, t.mb].filter((x): x is string => x !== undefined)),
    ...(m.complaints ? [m.complaints.column] : []), m.churn.column,
  ];
  return [...new Set(columns.filter((c) => c !== ROW_PLACEHOLDER))];
}

/** The header check: throws CustomerMappingError naming every column the mapping reads that the table lacks. */
export function checkHeader(m: CustomerMapping, header: readonly string[], table: string): void {
  const have = new Set(header);
  const missing = mappedColumns(m).filter((c) => !have.has(c));
  if (missing.length) {
    throw new CustomerMappingError(m.name, [`${table} has no column ${missing.map((c) => JSON.stringify(c)).join(', ')} (its header: ${header.map((c) => JSON.stringify(c)).join(', ')})`]);
  }
}

/** The mapping's cut-off as epoch ms at 00:00 UTC. */
export function cutoffOf(m: CustomerMapping): number {
  return Date.parse(`${m.cutoff}T00:00:00Z`);
}
