// A customer table's rows through its mapping (customer-mapping.ts): each row becomes a
// MappedCustomer, or a rejected row with every reason it cannot be read. Nothing is dropped
// silently: `rows` = customers + rejects.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { PaymentMethod } from './billing-events.ts';
import { type CustomerMapping, CustomerMappingError, ROW_PLACEHOLDER, checkHeader, fillTemplate, placeholders, type Lookup } from './customer-mapping.ts';

export interface MappedCustomer {
  /** 1 = the first row after the header. */
  row: number;
  customerId: string;
  /** In the mapping's tenure unit. */
  tenure: number;
  plan: string | null;
  paymentMethod: PaymentMethod | null;
  /** The monthly bill: charges.monthly, or the sum of charges.columns_summed. */
  monthlyCents: number;
  /** charges.total; null without the column or at tenure 0. */
  totalCents: number | null;
  /** Per usage.rates entry: events a day and the median value. */
  rates: { perDay: number; median: number }[];
  /** Per usage.totals entry: events in the window and their total minutes or MB (null: not given). */
  totals: { count: number; amount: number | null }[];
  complaints: number;
  churn: boolean;
}

export interface RejectedRow {
  row: number;
  customer_id: string | null;
  reason: string;
}

export interface CustomerTable {
  header: string[];
  customers: MappedCustomer[];
  rejects: RejectedRow[];
}

/** Reads a table through a mapping; throws CustomerMappingError when the header lacks a mapped column. */
export function readCustomerTable(path: string, mapping: CustomerMapping, limit = Infinity): CustomerTable {
  const records = parse(readFileSync(path), {
    delimiter: mapping.source?.delimiter ?? ',', skip_empty_lines: true, trim: true, relax_column_count: true, bom: true,
    ...(Number.isFinite(limit) ? { to: limit + 1 } : {}),
  }) as string[][];
  if (records.length === 0) throw new CustomerMappingError(mapping.name, [`${path} is empty (no header)`]);
  const [header, ...rows] = records;
  checkHeader(mapping, header, path);
  return mapRows(header, rows, mapping);
}

/** Maps parsed rows (arrays of fields in `header` order); a customer id seen before rejects the later row. */
export function mapRows(header: string[], rows: string[][], mapping: CustomerMapping): CustomerTable {
  const customers: MappedCustomer[] = [];
  const rejects: RejectedRow[] = [];
  const seen = new Map<string, number>();
  rows.forEach((fields, i) => {
    const row = i + 1;
    const record = Object.fromEntries(header.map((h, k) => [h, fields[k]]));
    const problems = fields.length === header.length ? [] : [`has ${fields.length} fields, the header ${header.length}`];
    const mapped = problems.length ? null : mapRow(record, row, mapping, problems);
    const id = mapped?.customerId ?? safeId(mapping, record, row);
    if (mapped && seen.has(mapped.customerId)) problems.push(`customer id ${JSON.stringify(mapped.customerId)} is already row ${seen.get(mapped.customerId)}'s`);
    if (mapped && problems.length === 0) {
      seen.set(mapped.customerId, row);
      customers.push(mapped);
    } else rejects.push({ row, customer_id: id, reason: problems.join('; ') });
  });
  return { header, customers, rejects };
}

function safeId(mapping: CustomerMapping, record: Record<string, string | undefined>, row: number): string | null {
  const names = placeholders(mapping.customer_id);
  if (names.some((n) => n !== ROW_PLACEHOLDER && !record[n])) return null;
  return fillTemplate(mapping.customer_id, (n) => (n === ROW_PLACEHOLDER ? String(row) : record[n]!));
}

/** One row, or null with the reasons pushed onto `problems`. */
function mapRow(r: Record<string, string | undefined>, row: number, m: CustomerMapping, problems: string[]): MappedCustomer | null {
  const raw = (column: string) => r[column] ?? '';
  const fail = <T>(message: string, fallback: T): T => {
    problems.push(message);
    return fallback;
  };
  const number = (column: string, { integer = false } = {}): number => {
    const text = raw(column);
    const v = Number(text);
    const ok = text !== '' && Number.isFinite(v) && v >= 0 && (!integer || Number.isInteger(v));
    return ok ? v : fail(`${column} ${JSON.stringify(text)} is not ${integer ? 'a whole number' : 'an amount'} >= 0`, 0);
  };
  const cents = (column: string) => Math.round(number(column) * 100);
  const lookup = (l: Lookup): number => {
    const text = raw(l.column);
    return Object.hasOwn(l.values, text) ? l.values[text] : fail(`${l.column} ${JSON.stringify(text)} is not one of ${Object.keys(l.values).map((v) => JSON.stringify(v)).join(', ')}`, 0);
  };
  const word = (column: string, values: Record<string, string> | undefined): string => {
    const text = raw(column);
    if (!values) return text || fail(`${column} is empty`, '');
    return Object.hasOwn(values, text) ? values[text] : fail(`${column} ${JSON.stringify(text)} is not one of ${Object.keys(values).map((v) => JSON.stringify(v)).join(', ')}`, '');
  };

  const customerId = fillTemplate(m.customer_id, (n) => (n === ROW_PLACEHOLDER ? String(row) : raw(n) || fail(`${n} is empty (part of the customer id)`, '')));
  const tenure = number(m.tenure.column, { integer: true });
  const plan = m.plan ? fillTemplate(m.plan.template, (n) => word(n, m.plan!.values?.[n])) : null;
  const paymentMethod = m.payment_method ? (word(m.payment_method.column, m.payment_method.values) as PaymentMethod) : null;
  const c = m.charges;
  const monthlyCents = c.monthly !== undefined ? cents(c.monthly) : (c.columns_summed ?? []).reduce((sum, col) => sum + cents(col), 0);
  let totalCents: number | null = null;
  if (c.total !== undefined) {
    // A customer never billed has a blank total (the IBM table leaves it empty at tenure 0).
    if (raw(c.total) !== '') totalCents = cents(c.total);
    else if (tenure > 0) problems.push(`${c.total} is blank but ${m.tenure.column} is ${tenure}`);
    if (tenure === 0) totalCents = null;
  }
  const rates = (m.usage.rates ?? []).map((u) => {
    const base = lookup(u.per_day);
    const median = typeof u.median === 'number' ? u.median : lookup(u.median);
    const extras = u.extras ? u.extras.columns.filter((col) => raw(col) === u.extras!.when).length : 0;
    // No base rate = no such service: its add-ons (streaming without internet) add nothing.
    return { perDay: base === 0 ? 0 : base + (u.extras?.per_day ?? 0) * extras, median: median * (u.extras?.median_factor ?? 1) ** extras };
  });
  const totals = (m.usage.totals ?? []).map((t) => {
    const amountColumn = t.minutes ?? t.mb;
    return { count: number(t.count, { integer: true }), amount: amountColumn === undefined ? null : number(amountColumn) };
  });
  const complaints = m.complaints ? number(m.complaints.column, { integer: true }) : 0;
  const churnText = raw(m.churn.column);
  const churn = m.churn.true.includes(churnText) ? true
    : m.churn.false.includes(churnText) ? false
    : fail(`${m.churn.column} ${JSON.stringify(churnText)} is neither a churn value (${m.churn.true.join(', ')}) nor a stay value (${m.churn.false.join(', ')})`, false);
  if (problems.length) return null;
  return { row, customerId, tenure, plan, paymentMethod, monthlyCents, totalCents, rates, totals, complaints, churn };
}
