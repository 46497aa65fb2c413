// Fault suite: the Kafka broker is stopped and started again twice while the documents processor
// (LexiScan, in process, with the committed NER model and a blob store of its own) has uploads in
// its worker pool: a scanned page (OCR), native, text and claim-checked contracts. documents is
// at-least-once (docs/runtime.md); asserted (documents-load.ts): the processor keeps running (its
// consumer session is replaced, never the process), no upload is lost or dead-lettered, a second
// result only for an upload that was uncommitted when the broker went, identical apart from
// extracted_at. The broker is the stack's embedded one when this checkout started it (restarted in
// place, left running), else a throwaway one (services.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import { endpoints, quietLog } from '../integration/helpers.ts';
import { documentsServiceCase, poolActivity, type DocumentKind } from './documents-load.ts';
import { explained } from './pipeline.ts';
import { waitFor } from './services.ts';

const frame = documentsServiceCase('KAFKA_BROKERS');

test('broker stopped and started twice with documents in the worker pool: the processor keeps running, no upload lost or dead-lettered', { timeout: 110_000 }, async (t) => {
  const broker = frame.service();
  t.diagnostic(`broker: ${broker.origin} at ${broker.endpoint}`);
  const ep = { ...endpoints(), kafkaBrokers: [broker.endpoint] };
  // Kafkajs logs every refused connection while the broker is down; the counts below say what happened.
  const kafka = createKafka('faults-documents-broker-restart', ep.kafkaBrokers, quietLog.child({}, { level: 'fatal' }));
  const { documents, load } = await frame.start(ep, kafka);
  const port = documents.processor.httpPort!;

  // Twice: a burst, and the broker stopped as soon as the pool has finished two jobs of it (results,
  // commits and the next jobs in flight when it goes; where exactly differs each time).
  const burstThenRestart = async (label: string, kinds: DocumentKind[], claimCheck: boolean) => {
    const { jobsOk } = await poolActivity(port);
    await load.send(kinds, { claimCheck });
    await explained([documents], waitFor(`${label}: two jobs of the burst done`, async () => (await poolActivity(port)).jobsOk >= jobsOk + 2, 60_000, 25));
    const atRisk = await load.faultHit();
    const down = Date.now();
    await broker.stop();
    t.diagnostic(`${label}: broker stopped in ${Date.now() - down} ms with ${atRisk} of ${load.sent.length} uploads not committed`);
    await sleep(3_000);
    await broker.start();
    t.diagnostic(`${label}: broker back after ${Date.now() - down} ms`);
  };
  await burstThenRestart('first restart', ['scan', 'native', 'text', 'native10', 'native'], false);
  await burstThenRestart('second restart', ['native', 'text', 'native10'], true);
  await load.send(['native', 'text']);

  const { problems, counts } = await frame.finish(kafka, load);
  t.diagnostic(counts);
  assert.deepEqual(problems, [], `after two broker restarts (stack log:\n${frame.stackLog.lines.slice(-6).join('\n')})\n${documents.tail()}`);
});
