import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import avro from 'avsc';
import { findSchemaFiles } from '../../schemas/codegen.ts';
import { loadSchema } from '../../schemas/topics.ts';
import { PERSONAL_ATTRIBUTE, REDACTED, personalData } from './personal-data.ts';

const billing = () => loadSchema('telecom/billing-event.avsc');
const entities = () => loadSchema('docs/extracted-entities.avsc');

test('the marks of the real schemas: customer ids, event ids, names found in documents', () => {
  assert.deepEqual(personalData(billing()).paths, ['event_id', 'user_id']);
  assert.deepEqual(personalData(loadSchema('telecom/churn-prediction.avsc')).paths, ['user_id']);
  assert.deepEqual(personalData(entities()).paths, ['entities[].text', 'entities[].normalized', 'text_blob_uri']);
  assert.deepEqual(personalData(loadSchema('docs/document-upload.avsc')).paths, ['filename', 'content', 'blob_uri']);
  assert.deepEqual(personalData(loadSchema('factory/sensor-reading.avsc')).paths, []);
});

test('every mark in schemas/ is `"personal": true` on a field, and avsc still parses the schema', () => {
  for (const file of findSchemaFiles()) {
    const text = JSON.stringify(loadSchema(file));
    const values = [...text.matchAll(new RegExp(`"${PERSONAL_ATTRIBUTE}":([^,}]*)`, 'g'))].map((m) => m[1]);
    assert.ok(values.every((v) => v === 'true'), `${file}: ${PERSONAL_ATTRIBUTE} must be true, found ${values.join(', ')}`);
    assert.doesNotThrow(() => avro.Type.forSchema(loadSchema(file) as avro.Schema));
  }
});

test('redact replaces personal values in nested records, keeps everything else and the input unchanged', () => {
  const value = {
    document_id: 'doc-1', model_name: 'ner', pages: 2,
    entities: [
      { label: 'PARTY', text: 'Jane Doe', normalized: null, confidence: 0.9 },
      { label: 'AMOUNT', text: '1250 EUR', normalized: '1250.00 EUR', confidence: 0.8 },
    ],
  };
  const before = structuredClone(value);
  const redacted = personalData(entities()).redact(value);
  assert.deepEqual(redacted.entities, [
    { label: 'PARTY', text: REDACTED, normalized: null, confidence: 0.9 },
    { label: 'AMOUNT', text: REDACTED, normalized: REDACTED, confidence: 0.8 },
  ]);
  assert.equal(redacted.document_id, 'doc-1');
  assert.deepEqual(value, before);
});

test('scrub removes a record\'s personal values from text: plain, JSON-escaped, and quoted in part', () => {
  const event = { event_id: 'telco-7590-VHVEG-bill-3', user_id: '7590-VHVEG\u0007', event_time: 0, amount: 12 };
  const p = personalData(billing());
  const message = `user_id ${JSON.stringify(event.user_id)} has a control character; event telco-7590-VHVEG-bill-3 at 7590-VHVEG`;
  const scrubbed = p.scrub(message, event);
  assert.doesNotMatch(scrubbed, /7590|VHVEG/);
  assert.match(scrubbed, /^user_id "\[personal\]" has a control character; event \[personal\] at \[personal\]$/);
  // avsc-style "invalid field(s) user_id=..." cut at 60 characters
  const long = { user_id: `customer-${'x'.repeat(80)}-42`, event_id: 'e1' };
  const cut = `invalid field(s) user_id=${JSON.stringify(long.user_id).slice(0, 60)}, amount=NaN`;
  assert.equal(p.scrub(cut, long), `invalid field(s) user_id="${REDACTED}, amount=NaN`);
  assert.equal(p.scrub('nothing personal here', event), 'nothing personal here');
  assert.equal(p.scrub('record 7590-VHVEG could not be decoded', null), 'record 7590-VHVEG could not be decoded');
});

test('two versions of a schema unite their marks; a schema without marks changes nothing', () => {
  const unmarked = JSON.parse(JSON.stringify(billing()).replaceAll(`"${PERSONAL_ATTRIBUTE}":true,`, ''));
  assert.deepEqual(personalData(unmarked).paths, []);
  assert.deepEqual(personalData(unmarked, billing()).paths, ['event_id', 'user_id']);
  assert.equal(personalData(unmarked).scrub('7590-VHVEG', { user_id: '7590-VHVEG' }), '7590-VHVEG');
});

test('a log line built with redact and scrub carries no personal value (pino output captured)', () => {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  const p = personalData(billing());
  const event = { event_id: 'sub-00000042-call-20260611-3', user_id: 'sub-00000042', event_time: Date.UTC(2026, 5, 11), event_type: 'CALL', amount: Number.NaN };
  const reason = `user_id ${JSON.stringify(event.user_id)} is not a known subscriber; amount is NaN`;
  log.warn({ event: p.redact(event), err: p.scrub(reason, event) }, 'record dead-lettered');
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0], /sub-00000042/);
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.event.user_id, REDACTED);
  assert.equal(entry.event.event_type, 'CALL');
  assert.equal(entry.err, `user_id "${REDACTED}" is not a known subscriber; amount is NaN`);
});
