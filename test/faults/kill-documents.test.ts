// Fault suite: the documents processor (LexiScan), run as production runs it (`streamscore run
// documents`, a child process), is killed with SIGKILL twice mid-work and restarted: once while
// its worker pool is OCRing a scanned page, once with a burst of native, text and claim-checked
// contracts half done. documents is at-least-once (docs/runtime.md): what it promises, and what is
// asserted (documents-load.ts), is that no upload is lost, none is dead-lettered, a second result
// only for an upload that was uncommitted when a kill hit, identical to the first apart from
// extracted_at; and that each restarted process comes back with its worker pool and finishes the
// rest, new uploads included, and stops with exit 0 on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS } from '../../schemas/topics.ts';
import { LocalBlobStore } from '../../streams/documents/blob-store.ts';
import { endpoints, runId, testKafka } from '../integration/helpers.ts';
import { kill9, startCliProcessor, whileRunning, type CliProcessor } from './cli-process.ts';
import { DocumentsLoad, poolActivity } from './documents-load.ts';
import { waitForCommits } from './kafka-io.ts';
import { waitFor } from './services.ts';

test('kill -9 of documents during OCR and mid-burst, restarted: no upload lost or dead-lettered, duplicates only where a kill hit, identical', { timeout: 110_000 }, async (t) => {
  const blobDir = mkdtempSync(join(tmpdir(), 'ss-faults-kill-documents-'));
  t.after(() => rmSync(blobDir, { recursive: true, force: true }));
  const env = {
    STREAMSCORE_BLOB_DIR: blobDir,
    STREAMSCORE_BLOB_MIN_FREE_MB: '0',
    // The broker's minimum: a killed member leaves the group (and its partitions to the restarted one) 6 s after its last heartbeat.
    STREAMSCORE_SESSION_TIMEOUT_MS: '6000',
    // Small batches: results of earlier batches are committed while later ones are in the pool when a kill lands.
    STREAMSCORE_MAX_BATCH_RECORDS: '2',
  };
  const kafka = testKafka();
  const load = new DocumentsLoad(kafka, endpoints().schemaRegistryUrl, runId(), new LocalBlobStore({ root: blobDir, minFreeBytes: 0 }));
  const started = async (what: string) => {
    const child = startCliProcessor('documents', env);
    await whileRunning(child, `${what}: joining the group`, child.joined);
    return { child, port: await child.metricsPort };
  };
  const killed = async (child: CliProcessor, what: string) => {
    await kill9(child);
    const atRisk = await load.faultHit();
    t.diagnostic(`killed ${what}; ${atRisk} of ${load.sent.length} uploads were not committed yet`);
  };

  // 1. The first process, once it has caught up with anything older, gets one scanned page and is
  // killed while that page's OCR job runs (read-pdf has ended with a value, the next job is in the pool).
  let { child, port } = await started('first process');
  await load.prepare();
  await whileRunning(child, 'catching up with older uploads', load.backlogDone('documents', 60_000));
  const before = await poolActivity(port);
  const [scan] = await load.send(['scan']);
  await whileRunning(child, 'waiting for the OCR job', waitFor(`the OCR job of ${scan.upload.document_id}`, async () => {
    const now = await poolActivity(port);
    if (now.jobsOk > before.jobsOk + 1) throw new Error(`the scanned page was read and OCR'd (${now.jobsOk - before.jobsOk} jobs ended) before the kill could land on its OCR job`);
    return now.jobsOk === before.jobsOk + 1 && now.inFlight >= 1;
  }, 30_000, 25));
  await killed(child, 'while the scanned page was being OCR\'d');

  // 2. A restarted process gets a burst (inline and by claim check) and is killed once some results are out and more are in the pool.
  ({ child, port } = await started('second process'));
  await load.send(['native', 'text', 'native10', 'native', 'text', 'native']);
  await load.send(['native', 'native10', 'text'], { claimCheck: true });
  let progress = await poolActivity(port);
  await whileRunning(child, 'working through the burst', waitFor('3 results out and more jobs in the pool', async () => {
    progress = await poolActivity(port);
    return progress.results >= 3 && progress.inFlight >= 1;
  }, 60_000, 25));
  await killed(child, `with ${progress.results} results out and ${progress.inFlight} jobs in the pool`);

  // 3. The last process finishes what the others left, and uploads sent after it started.
  ({ child, port } = await started('third process'));
  await load.send(['native', 'text']);
  const topic = TOPICS.documentUploads.name;
  await whileRunning(child, 'finishing the uploads', waitForCommits(kafka, 'documents', topic, load.ends(), 60_000));
  const last = await poolActivity(port);
  t.diagnostic(`the third process: ${last.jobsOk} pool jobs ended with a value, ${last.results} results`);
  assert.ok(last.jobsOk > 0 && last.results > 0, 'the restarted process produced nothing: its worker pool did not come back');

  const { problems, counts } = await load.check();
  t.diagnostic(counts);
  assert.deepEqual(problems, [], `after two kill -9 (the last process's log:\n${child.output.slice(-15).join('\n')})`);

  child.proc.kill('SIGTERM');
  const [code] = (await once(child.proc, 'exit')) as [number | null];
  assert.equal(code, 0, `SIGTERM stops the restarted processor gracefully:\n${child.output.slice(-15).join('\n')}`);
});
