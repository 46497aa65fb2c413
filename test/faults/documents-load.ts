// A counted load of contract uploads for the documents processor's fault cases (kill -9, broker and
// registry restarts): native PDFs, a plain-text contract, one by claim check and one scanned page
// (OCR), each with its own document_id. documents is at-least-once (streams/documents/topology.ts,
// docs/runtime.md): a result is a pure function of (document, model) keyed by document_id, and a
// batch whose results were acknowledged but whose offsets were not committed when the fault hit is
// delivered again. So `check` asserts what the design promises: every upload has a result (none
// lost), a second copy only for an upload that was uncommitted when a fault hit (bounded), copies
// identical apart from extracted_at, the same bytes giving the same entities whichever process read
// them, and no dead letter for any of these good documents.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Kafka } from 'kafkajs';
import { TOPICS, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import type { DocumentUpload, ExtractedEntities } from '../../schemas/generated/types.ts';
import { LocalBlobStore, type BlobStore } from '../../streams/documents/blob-store.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { readDeadLetters } from './dead-letters.ts';
import { runId } from '../integration/helpers.ts';
import { committedOffsets, coordinateKey, currentEnds, produceTracked, readToEnd, waitForCommits, type Coordinates } from './kafka-io.ts';
import { anyStopped, explained, liveness, startDocuments, type Endpoints, type Watched } from './pipeline.ts';
import { serviceLog, serviceUnderTest, type ServiceUnderTest } from './services.ts';

const fixture = (path: string) => readFileSync(new URL(`../../streams/documents/${path}`, import.meta.url));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The documents of the load, by kind; what each must come out as (pages, OCR or not). */
export const DOCUMENT_KINDS = {
  native: { bytes: fixture('pages/fixtures/contract.pdf'), filename: 'contract.pdf', contentType: 'application/pdf', pages: 3, ocr: false },
  native10: { bytes: fixture('fixtures/native-servicing-10p.pdf'), filename: 'servicing.pdf', contentType: 'application/pdf', pages: 10, ocr: false },
  text: {
    bytes: Buffer.from('SERVICES AGREEMENT\n\nThis Services Agreement is entered into on March 3, 2025 by Acme Holdings Inc. and Borealis Logistics LLC.\fThis Agreement is governed by the laws of the State of Delaware.\n', 'utf8'),
    filename: 'agreement.txt',
    contentType: 'text/plain',
    pages: 2,
    ocr: false,
  },
  // One page without a text layer: read-pdf, then one ocr-page job (~1-2 s), then NER.
  scan: { bytes: fixture('pages/fixtures/scan.pdf'), filename: 'scan.pdf', contentType: 'application/pdf', pages: 1, ocr: true },
} as const;
export type DocumentKind = keyof typeof DOCUMENT_KINDS;

export interface SentUpload {
  kind: DocumentKind;
  upload: DocumentUpload;
  at: Coordinates;
}

/** Writes a value in the Confluent wire format with some writer schema: the topic's, or a newer variant. */
export type EncodeUpload = (value: DocumentUpload) => Buffer;

export class DocumentsLoad {
  readonly sent: SentUpload[] = [];
  readonly serde: AvroSerde;
  /** Per document_id: how many copies of its result the faults so far allow (1 + faults that hit it uncommitted). */
  private readonly allowed = new Map<string, number>();
  private from = new Map<string, Map<number, number>>();
  private next = 0;
  private readonly kafka: Kafka;
  private readonly registryUrl: string;
  private readonly run: string;
  private readonly blobs: BlobStore;

  constructor(kafka: Kafka, registryUrl: string, run: string, blobs: BlobStore) {
    this.kafka = kafka;
    this.registryUrl = registryUrl;
    this.run = run;
    this.blobs = blobs;
    this.serde = new AvroSerde(new ConfluentSchemaStore(registryUrl));
  }

  /** Registers the upload schema and notes where the outputs end now (the topics must exist: the processor creates them). */
  async prepare(): Promise<void> {
    await this.serde.useTopic(TOPICS.documentUploads.name, loadSchema(TOPICS.documentUploads.schema));
    for (const t of [TOPICS.documentEntities, TOPICS.documentReview]) this.serde.useReader(t.name, loadSchema(t.schema));
    this.from = await currentEnds(this.kafka, [TOPICS.documentEntities.name, TOPICS.documentReview.name, dlqTopic(TOPICS.documentUploads.name)]);
  }

  /** Uploads one document of each kind in `kinds`, in order; `claimCheck` sends the bytes by blob_uri instead of inline. */
  async send(kinds: DocumentKind[], options: { claimCheck?: boolean; encode?: EncodeUpload } = {}): Promise<SentUpload[]> {
    const uploads: { kind: DocumentKind; upload: DocumentUpload }[] = [];
    for (const kind of kinds) {
      const d = DOCUMENT_KINDS[kind];
      const byClaim = options.claimCheck ? (await this.blobs.put(d.bytes)).uri : null;
      uploads.push({
        kind,
        upload: { document_id: `${this.run}-${kind}-${this.next++}`, filename: d.filename, content_type: d.contentType, size_bytes: d.bytes.length, sha256: sha256(d.bytes), uploaded_at: Date.now(), source: 'faults', content: byClaim ? null : d.bytes, blob_uri: byClaim },
      });
    }
    const encode = options.encode ?? ((v: DocumentUpload) => this.serde.encode(TOPICS.documentUploads.name, v));
    const topic = TOPICS.documentUploads;
    const at = await produceTracked(this.kafka, topic.name, topic.partitions, uploads.map((u) => ({ key: u.upload.document_id, value: encode(u.upload) })));
    const sent = uploads.map((u, i) => ({ ...u, at: at[i] }));
    for (const s of sent) this.allowed.set(s.upload.document_id, 1);
    this.sent.push(...sent);
    return sent;
  }

  /**
   * Called when a fault hit (or just before it, while the broker still answers): every upload the
   * group has not committed yet may be delivered again, so it may have one more copy. Returns how many.
   */
  async faultHit(groupId = 'documents'): Promise<number> {
    const committed = await committedOffsets(this.kafka, groupId, TOPICS.documentUploads.name);
    const atRisk = this.sent.filter((s) => (committed.get(s.at.partition) ?? -1) <= s.at.offset);
    for (const s of atRisk) this.allowed.set(s.upload.document_id, this.allowed.get(s.upload.document_id)! + 1);
    return atRisk.length;
  }

  /**
   * Waits until `groupId` has handled what was on the uploads topic before this case (uploads an
   * earlier test left for it), so the processor's activity from here on is this case's.
   */
  async backlogDone(groupId: string, timeoutMs: number, giveUp: () => string | null = () => null): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(TOPICS.documentUploads.name);
      const ends = new Map(offsets.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]));
      await waitForCommits(this.kafka, groupId, TOPICS.documentUploads.name, ends, timeoutMs, giveUp);
    } finally {
      await admin.disconnect();
    }
  }

  /** The group's end offsets for everything sent: what it must commit to be done. */
  ends(): Map<number, number> {
    const ends = new Map<number, number>();
    for (const { at } of this.sent) ends.set(at.partition, Math.max(ends.get(at.partition) ?? 0, at.offset + 1));
    return ends;
  }

  /** Reads the outputs and dead letters back and returns what breaks the promise (empty when none), and a summary. */
  async check(): Promise<{ problems: string[]; counts: string }> {
    const mine = (r: { key: Buffer | null }) => r.key?.toString('utf8').startsWith(`${this.run}-`) ?? false;
    const decode = async (topic: string) => Promise.all((await readToEnd(this.kafka, [topic], mine, { from: this.from, timeoutMs: 60_000 })).map(async (r) => ({ key: r.key!.toString('utf8'), value: (await this.serde.decode(topic, r.value)) as ExtractedEntities })));
    const results = await decode(TOPICS.documentEntities.name);
    const reviews = await decode(TOPICS.documentReview.name);
    const problems: string[] = [];
    const byId = new Map<string, ExtractedEntities[]>();
    for (const { key, value } of results) {
      if (key !== value.document_id) problems.push(`a result keyed ${key} is for ${value.document_id}`);
      byId.set(value.document_id, [...(byId.get(value.document_id) ?? []), value]);
    }
    const reviewCopies = new Map<string, number>();
    for (const { value } of reviews) reviewCopies.set(value.document_id, (reviewCopies.get(value.document_id) ?? 0) + 1);
    // What a result says about its document, without what legitimately differs between two runs over it.
    const content = (v: ExtractedEntities) => JSON.stringify({ ...v, document_id: undefined, extracted_at: undefined });
    const firstOfBytes = new Map<string, { id: string; content: string }>();
    let duplicated = 0;
    for (const s of this.sent) {
      const id = s.upload.document_id;
      const copies = byId.get(id) ?? [];
      const allowed = this.allowed.get(id)!;
      const expected = DOCUMENT_KINDS[s.kind];
      if (copies.length === 0) {
        problems.push(`${id} (${s.kind}, ${coordinateKey(s.at)}): no result on ${TOPICS.documentEntities.name} (lost)`);
        continue;
      }
      if (copies.length > 1) duplicated++;
      if (copies.length > allowed) problems.push(`${id} (${s.kind}, ${coordinateKey(s.at)}): ${copies.length} results, but it was uncommitted at only ${allowed - 1} fault(s)`);
      if (new Set(copies.map(content)).size > 1) problems.push(`${id}: its ${copies.length} results differ beyond extracted_at`);
      const v = copies[0];
      if (v.pages !== expected.pages || v.ocr_used !== expected.ocr) problems.push(`${id} (${s.kind}): ${v.pages} pages, ocr_used ${v.ocr_used}; expected ${expected.pages} pages, ocr_used ${expected.ocr}`);
      if (v.sha256 !== s.upload.sha256) problems.push(`${id}: the result names sha256 ${v.sha256}, the upload ${s.upload.sha256}`);
      const same = firstOfBytes.get(s.upload.sha256);
      if (!same) firstOfBytes.set(s.upload.sha256, { id, content: content(v) });
      else if (same.content !== content(v)) problems.push(`${id} and ${same.id} carry the same bytes (${s.kind}) but their results differ`);
      const flagged = copies.filter((c) => c.needs_review).length;
      const onReview = reviewCopies.get(id) ?? 0;
      if ((flagged > 0) !== (onReview > 0) || onReview > allowed) problems.push(`${id}: ${flagged} of its results flagged needs_review, ${onReview} copies on ${TOPICS.documentReview.name}`);
      if (!v.text_blob_uri || !(await this.blobs.has(v.text_blob_uri).catch(() => false))) problems.push(`${id}: its page texts (${v.text_blob_uri}) are not in the blob store`);
    }
    const ids = new Set(this.sent.map((s) => s.upload.document_id));
    for (const id of byId.keys()) if (!ids.has(id)) problems.push(`a result for ${id}, which this case never uploaded`);
    const letters = await readDeadLetters(this.kafka, this.registryUrl, [TOPICS.documentUploads], this.from, 60_000);
    for (const s of this.sent) {
      for (const dl of letters.get(coordinateKey(s.at)) ?? []) problems.push(`${s.upload.document_id} (${s.kind}) dead-lettered: ${dl.value ? `${dl.value.stage} ${dl.value.error_message.slice(0, 300)}` : dl.decodeError}`);
    }
    const counts = `${this.sent.length} uploads -> ${results.length} results (${duplicated} documents with a second copy; ${[...this.allowed.values()].filter((n) => n > 1).length} were uncommitted when a fault hit), ${reviews.length} review copies`;
    return { problems, counts };
  }
}

/** What the processor's worker pool and producer have done so far, from its /metrics. */
export interface PoolActivity {
  /** Jobs admitted to the pool (running or queued). */
  inFlight: number;
  /** Jobs that ended with a value. */
  jobsOk: number;
  /** Results acknowledged on docs.entities.v1. */
  results: number;
}

export async function poolActivity(metricsPort: number): Promise<PoolActivity> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const value = (name: string, labels: RegExp) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.test(l));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  return {
    inFlight: value('streamscore_worker_jobs_in_flight', /processor="documents"/),
    jobsOk: value('streamscore_worker_jobs_finished_total', /outcome="ok"/),
    results: value('streamscore_records_out_total', new RegExp(`topic="${TOPICS.documentEntities.name.replace(/\./g, '\\.')}"`)),
  };
}

/**
 * The frame of a documents case that restarts the service behind `variable`: the service (the
 * stack's own or a throwaway one, services.ts) from `before`, documents in process with a blob store
 * of its own in a temp dir, and the teardown in `after`. Small batches (2 records): some committed,
 * some in the pool, some acknowledged but not committed when the service goes.
 */
export function documentsServiceCase(variable: 'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL') {
  const stackLog = serviceLog();
  const blobDir = mkdtempSync(join(tmpdir(), 'ss-faults-documents-'));
  let service: ServiceUnderTest | undefined;
  let documents: Watched | undefined;
  before(async () => {
    service = await serviceUnderTest(variable, stackLog.log);
  });
  after(async () => {
    await documents?.stop();
    await service?.dispose();
    rmSync(blobDir, { recursive: true, force: true });
  });
  return {
    stackLog,
    service: () => service!,
    /** Starts documents against `ep`, and a load whose uploads come after any older ones the group had left. */
    async start(ep: Endpoints, kafka: Kafka): Promise<{ documents: Awaited<ReturnType<typeof startDocuments>>; load: DocumentsLoad }> {
      const blobs = new LocalBlobStore({ root: blobDir, minFreeBytes: 0 });
      const running = await startDocuments(ep, blobs, { maxBatchRecords: 2 });
      documents = running;
      const load = new DocumentsLoad(kafka, ep.schemaRegistryUrl, runId(), blobs);
      await load.prepare();
      await explained([running], load.backlogDone('documents', 60_000, anyStopped([running])));
      return { documents: running, load };
    },
    /** Waits until documents has committed every upload, then checks the outputs and that it is still running and ready. */
    async finish(kafka: Kafka, load: DocumentsLoad): Promise<{ problems: string[]; counts: string }> {
      const waited = Date.now();
      await explained([documents], waitForCommits(kafka, 'documents', TOPICS.documentUploads.name, load.ends(), 80_000, anyStopped([documents])));
      const done = `every upload committed ${((Date.now() - waited) / 1000).toFixed(1)} s after the last was sent`;
      const { problems, counts } = await load.check();
      problems.push(...liveness([documents!], Number.POSITIVE_INFINITY));
      return { problems, counts: `${counts}; ${done}; consumer sessions replaced: ${documents!.crashes()}` };
    },
  };
}
