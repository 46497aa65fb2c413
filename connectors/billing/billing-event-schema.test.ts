// BillingEvent v3 (ACCOUNT_OPENED) is BACKWARD compatible: a v3 reader reads what v2 writers wrote.
// A v2 reader cannot read an ACCOUNT_OPENED: consumers move to v3 before producers emit it, as with
// CANCELLATION in v2 (docs/sparkscale.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import avro from 'avsc';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { billingEvent } from './billing-events.ts';

type EnumField = { name: string; type: { symbols?: string[] } };
const v3 = loadSchema(TOPICS.billingEvents.schema) as { fields: EnumField[] };
const v2 = { ...v3, fields: v3.fields.map((f) => (f.name === 'event_type' ? { ...f, type: { ...f.type, symbols: f.type.symbols!.filter((s) => s !== 'ACCOUNT_OPENED') } } : f)) };

test('BillingEvent v3 adds ACCOUNT_OPENED and still reads every v2 record', () => {
  const symbols = v3.fields.find((f) => f.name === 'event_type')!.type.symbols!;
  assert.equal(symbols.at(-1), 'ACCOUNT_OPENED', 'a new symbol goes last, so the old ones keep their index');
  const writer = avro.Type.forSchema(v2 as avro.Schema);
  const reader = avro.Type.forSchema(v3 as avro.Schema);
  const resolver = reader.createResolver(writer);
  const cancel = { ...billingEvent('e-1', 'u-1', Date.UTC(2026, 6, 1), 'CANCELLATION'), plan: 'p' };
  assert.deepEqual({ ...reader.fromBuffer(writer.toBuffer(cancel), resolver) }, cancel);
});

test('a v2 reader cannot read an ACCOUNT_OPENED: consumers upgrade first', () => {
  const writer = avro.Type.forSchema(v3 as avro.Schema);
  const reader = avro.Type.forSchema(v2 as avro.Schema);
  const opened = writer.toBuffer(billingEvent('e-2', 'u-2', Date.UTC(2026, 5, 1), 'ACCOUNT_OPENED'));
  assert.throws(() => reader.fromBuffer(opened, reader.createResolver(writer)));
});
