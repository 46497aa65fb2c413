// Fault suite: the schema registry is stopped and started while the documents processor (LexiScan,
// in process) works. While it is down, uploads arrive written with a writer schema the processor
// has never seen (a newer, BACKWARD-compatible DocumentUpload with one more optional field), so it
// needs the registry to decode them: it must wait and retry, never dead-letter a good document for
// it and never exit. Asserted (documents-load.ts): no upload lost or dead-lettered, a second result
// only for an upload uncommitted when the registry went (documents is at-least-once), identical
// apart from extracted_at; the processor running and ready, and it met the outage (logged it). The
// registry is the stack's embedded one when this checkout started it, else a throwaway one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOPICS } from '../../schemas/topics.ts';
import { endpoints, testKafka } from '../integration/helpers.ts';
import { documentsServiceCase } from './documents-load.ts';
import { newerWriter } from './pipeline-load.ts';

const frame = documentsServiceCase('SCHEMA_REGISTRY_URL');

test('registry stopped and started with unseen upload schemas arriving meanwhile: documents waits, no upload lost or dead-lettered', { timeout: 110_000 }, async (t) => {
  const registry = frame.service();
  t.diagnostic(`registry: ${registry.origin} at ${registry.endpoint}`);
  const ep = { ...endpoints(), schemaRegistryUrl: registry.endpoint };
  const kafka = testKafka();
  const { documents, load } = await frame.start(ep, kafka);
  const newer = await newerWriter(ep.schemaRegistryUrl, TOPICS.documentUploads.schema, 'faults.document-upload-newer-writer-value');

  await load.send(['native', 'text', 'scan']);
  const atRisk = await load.faultHit();
  const down = Date.now();
  await registry.stop();
  t.diagnostic(`registry stopped in ${Date.now() - down} ms with ${atRisk} of ${load.sent.length} uploads not committed`);
  await load.send(['native', 'text', 'native10'], { encode: newer.encode });
  await load.send(['native', 'text'], { encode: newer.encode, claimCheck: true });
  await sleep(5_000); // the processor meets the unseen schema id while the registry is down
  await registry.start();
  t.diagnostic(`registry back after ${Date.now() - down} ms`);
  await load.send(['native', 'text']);

  const { problems, counts } = await frame.finish(kafka, load);
  const aboutRegistry = documents.lines.filter((l) => /registry/i.test(JSON.stringify(l))).length;
  t.diagnostic(`${counts}; log lines about the registry: ${aboutRegistry}`);
  assert.deepEqual(problems, [], `after a registry restart (stack log:\n${frame.stackLog.lines.slice(-6).join('\n')})\n${documents.tail()}`);
  assert.ok(aboutRegistry > 0, 'the processor did not meet the registry outage (nothing logged about it): the case tested nothing');
});
