// Fault suite: the schema registry is stopped and started while the documents processor (LexiScan,
// in process) works. While it is down, uploads arrive written with a writer schema the processor
// has never seen (a newer, BACKWARD-compatible DocumentUpload with one more optional field), so it
// needs the registry to decode them: it must wait and retry, never dead-letter a good document for
// it and never exit. Asserted (documents-load.ts): no upload lost or dead-lettered, a second result
// only for an upload uncommitted when the registry went (documents is at-least-once), identical
// apart from extracted_at; the processor running and ready, and it met the outage (logged it). The
// registry is the stack's embedded one when this checkout started it, else a throwaway one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOPICS } from '../../schemas/topics.ts';
import { LocalBlobStore } from '../../streams/documents/blob-store.ts';
import { endpoints, runId, testKafka } from '../integration/helpers.ts';
import { DocumentsLoad } from './documents-load.ts';
import { waitForCommits } from './kafka-io.ts';
import { anyStopped, explained, liveness, startDocuments, type Watched } from './pipeline.ts';
import { newerWriter } from './pipeline-load.ts';
import { serviceLog, serviceUnderTest, type ServiceUnderTest } from './services.ts';

const stackLog = serviceLog();
const blobDir = mkdtempSync(join(tmpdir(), 'ss-faults-documents-registry-'));
let registry: ServiceUnderTest;
let documents: Watched | undefined;
before(async () => {
  registry = await serviceUnderTest('SCHEMA_REGISTRY_URL', stackLog.log);
});
after(async () => {
  await documents?.stop();
  await registry?.dispose();
  rmSync(blobDir, { recursive: true, force: true });
});

test('registry stopped and started with unseen upload schemas arriving meanwhile: documents waits, no upload lost or dead-lettered', { timeout: 110_000 }, async (t) => {
  t.diagnostic(`registry: ${registry.origin} at ${registry.endpoint}`);
  const ep = { ...endpoints(), schemaRegistryUrl: registry.endpoint };
  const kafka = testKafka();
  const blobs = new LocalBlobStore({ root: blobDir, minFreeBytes: 0 });
  documents = await startDocuments(ep, blobs, { maxBatchRecords: 2 });
  const load = new DocumentsLoad(kafka, ep.schemaRegistryUrl, runId(), blobs);
  await load.prepare();
  await explained([documents], load.backlogDone('documents', 60_000, anyStopped([documents])));
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

  await explained([documents], waitForCommits(kafka, 'documents', TOPICS.documentUploads.name, load.ends(), 80_000, anyStopped([documents])));
  const { problems, counts } = await load.check();
  const aboutRegistry = documents.lines.filter((l) => /registry/i.test(JSON.stringify(l))).length;
  t.diagnostic(`${counts}; log lines about the registry: ${aboutRegistry}; consumer sessions replaced: ${documents.crashes()}`);
  problems.push(...liveness([documents], Number.POSITIVE_INFINITY));
  assert.deepEqual(problems, [], `after a registry restart (stack log:\n${stackLog.lines.slice(-6).join('\n')})\n${documents.tail()}`);
  assert.ok(aboutRegistry > 0, 'the processor did not meet the registry outage (nothing logged about it): the case tested nothing');
});
