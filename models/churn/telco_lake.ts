// Rebuilds the Telco-derived billing lake the committed churn model was trained on, straight into
// a lake directory (no Kafka): the IBM Telco table -> telcoEvents (deterministic per customer) ->
// the lake's own writer and rules (LakeBillingSink). make_reference.py reads it to recompute the
// model's training rows; it checks their counts against model-meta.json, since the file bytes
// (names carry offsets) differ from the sink-written lake whose sha256 the meta records.
//
//   node models/churn/telco_lake.ts OUT_LAKE_DIR [--csv FILE]
import { parseArgs } from 'node:util';
import { LakeBillingSink } from '../../connectors/billing/lake-billing-sink.ts';
import { DEFAULT_CUTOFF, defaultTelcoCsv, readTelcoCsv, telcoEvents } from '../../connectors/billing/telco-events.ts';
import type { BillingEvent } from '../../schemas/generated/types.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { csv: { type: 'string' } } });
if (positionals.length !== 1) {
  process.stderr.write('usage: node models/churn/telco_lake.ts OUT_LAKE_DIR [--csv FILE]\n');
  process.exit(2);
}
const csv = values.csv ?? defaultTelcoCsv();
const sink = await LakeBillingSink.open(positionals[0], 'telco');
let batch: BillingEvent[] = [];
for (const e of telcoEvents(readTelcoCsv(csv), DEFAULT_CUTOFF)) {
  batch.push(e);
  if (batch.length >= 20_000) {
    await sink.write(batch);
    batch = [];
  }
}
await sink.write(batch);
await sink.close();
process.stdout.write(`${JSON.stringify({ csv, lake: positionals[0], rows: sink.rows, files: sink.files })}\n`);
