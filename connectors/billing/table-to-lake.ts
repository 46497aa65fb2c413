// A customer table -> its mapping -> BillingEvents -> the lake, in one call: the first step of
// `streamscore churn train --table`. Every row ends as a customer in the lake or as a line of the
// rejects file with its reason: rows the mapping cannot read (customer-rows.ts) and rows whose
// events the lake would refuse (its rules: dates before 2000, ...). Nothing is dropped silently.
import { writeFileSync } from 'node:fs';
import type { BillingEvent } from '../../schemas/generated/types.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { type CustomerMapping, cutoffOf } from './customer-mapping.ts';
import { readCustomerTable, type RejectedRow } from './customer-rows.ts';
import { mappedCustomerEvents } from './customer-table.ts';
import { billingLakeRules, lakeProblem } from './lake-billing-sink.ts';
import { produceBillingEvents } from './producer.ts';

export interface TableToLakeOptions {
  table: string;
  mapping: CustomerMapping;
  lakeDir: string;
  /** JSON lines, one rejected row each: {row, customer_id, reason}. */
  rejectsFile: string;
  /** Default: the mapping's cut-off. */
  cutoff?: number;
  log: Logger;
}

export interface TableToLakeSummary {
  rows: number;
  customers: number;
  rejected: number;
  events: number;
  churners: number;
  cutoff: string;
}

export async function tableToLake(o: TableToLakeOptions): Promise<TableToLakeSummary> {
  const cutoff = o.cutoff ?? cutoffOf(o.mapping);
  const table = readCustomerTable(o.table, o.mapping);
  const rejects: RejectedRow[] = [...table.rejects];
  const rules = billingLakeRules();
  const now = Date.now();
  const histories: BillingEvent[][] = [];
  for (const c of table.customers) {
    const events = mappedCustomerEvents(c, o.mapping, cutoff);
    const problem = events.map((e) => lakeProblem(rules, e, now)).find((p) => p !== null);
    if (problem) rejects.push({ row: c.row, customer_id: c.customerId, reason: `its events break a lake rule: ${problem}` });
    else histories.push(events);
  }
  rejects.sort((a, b) => a.row - b.row);
  writeFileSync(o.rejectsFile, rejects.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const summary = await produceBillingEvents(histories.flat(), { destination: { kind: 'lake', lakeDir: o.lakeDir, source: o.mapping.name }, log: o.log });
  const result = {
    rows: table.customers.length + table.rejects.length, customers: histories.length, rejected: rejects.length,
    events: summary.produced, churners: summary.cancellations, cutoff: new Date(cutoff).toISOString().slice(0, 10),
  };
  o.log.info({ ...result, lake: o.lakeDir, rejects: o.rejectsFile }, 'customer table written to the lake');
  return result;
}
