// One suite, run against both backends: SQLite (node:sqlite, FTS5) on a temp file, and PostgreSQL
// through the real wire protocol — the `pg` client talking to PGlite (Postgres 17 compiled to
// WebAssembly) behind @electric-sql/pglite-socket's server, so no Postgres install or network is
// needed. Status transitions, every search filter, paging, and the same answers from both.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { normalizeName, type DocumentIndex } from './document-index.ts';
import { openDocumentIndex } from './open-index.ts';
import { SearchQueryError } from './search-sql.ts';
import { extractedEntities } from './test-results.ts';

const T0 = Date.UTC(2026, 11, 1);
const upload = (id: string, at: number) => ({ documentId: id, filename: `${id}.pdf`, contentType: 'application/pdf', sizeBytes: 1000, sha256: 'a'.repeat(64), blobUri: `blob:sha256:${'a'.repeat(64)}`, uploadedAt: at });

/** Three contracts with facts that each filter tells apart. */
async function seed(index: DocumentIndex): Promise<void> {
  await index.upsertUpload(upload('doc-acme', T0 + 1));
  await index.upsertResult(
    extractedEntities('doc-acme', {
      parties: ['Acme Widgets, Inc.', 'Globex Corporation'],
      law: ['the laws of the State of New York', 'US-NY'],
      dates: [['EFFECTIVE_DATE', '2019-03-01'], ['EXPIRATION_DATE', '2024-02-28']],
      amounts: [['$250,000', '250000.00 USD']],
      contractType: 'services',
    }),
    'This Services Agreement is made between Acme Widgets and Globex. Either party may terminate for convenience on thirty days notice.',
  );
  await index.upsertUpload(upload('doc-initech', T0 + 2));
  await index.upsertResult(
    extractedEntities('doc-initech', {
      parties: ['Initech GmbH', 'Acme Holdings Ltd'],
      law: ['the laws of England and Wales', 'GB-ENG'],
      dates: [['AGREEMENT_DATE', '2021-07-15']],
      amounts: [['EUR 1.250,00', '1250.00 EUR']],
      contractType: 'distributor',
      needsReview: true,
    }),
    'Distribution agreement. The distributor shall purchase products; governed by English law.',
  );
  await index.upsertUpload(upload('doc-delaware', T0 + 3));
  await index.upsertResult(
    extractedEntities('doc-delaware', { parties: ['Soylent Corp.'], law: ['Delaware', 'US-DE'], dates: [['EFFECTIVE_DATE', '2023-01-10']], contractType: 'license' }),
    'License agreement for software. Delaware law governs.',
  );
  await index.upsertUpload(upload('doc-queued', T0 + 4));
}

const ids = (r: { documents: { document_id: string }[] }) => r.documents.map((d) => d.document_id).sort();

function indexSuite(name: string, open: () => Promise<DocumentIndex>) {
  describe(name, () => {
    let index: DocumentIndex;
    before(async () => {
      index = await open();
      await seed(index);
    });
    after(async () => index?.close());

    it('keeps the upload metadata and moves queued -> done with the result', async () => {
      const queued = await index.get('doc-queued');
      assert.equal(queued?.status, 'queued');
      assert.equal(queued?.filename, 'doc-queued.pdf');
      assert.equal(queued?.result, null);
      const done = await index.get('doc-acme');
      assert.equal(done?.status, 'done');
      assert.equal(done?.uploaded_at, new Date(T0 + 1).toISOString());
      assert.equal(done?.result?.contract_type, 'services');
      assert.deepEqual(done?.result?.entities.map((e) => e.label), ['PARTY', 'PARTY', 'EFFECTIVE_DATE', 'EXPIRATION_DATE', 'AMOUNT', 'GOVERNING_LAW']);
      assert.equal(await index.get('doc-unknown'), null);
      assert.match(await index.indexId(), /^[0-9a-f-]{36}$/);
    });

    it('a rejection is recorded with its reason, but never overrides a result', async () => {
      await index.upsertUpload(upload('doc-bad', T0 + 5));
      await index.markRejected('doc-bad', 'encrypted: the PDF needs a password', T0 + 6);
      const bad = await index.get('doc-bad');
      assert.equal(bad?.status, 'rejected');
      assert.equal(bad?.reason, 'encrypted: the PDF needs a password');
      assert.equal(bad?.filename, 'doc-bad.pdf');
      await index.markRejected('doc-acme', 'late duplicate', T0 + 7);
      assert.equal((await index.get('doc-acme'))?.status, 'done');
      // A rejection for a document whose upload this index never saw still answers.
      await index.markRejected('doc-elsewhere', 'corrupt: no xref', T0 + 8);
      assert.equal((await index.get('doc-elsewhere'))?.status, 'rejected');
    });

    it('an older result does not replace a newer one; a re-delivered one changes nothing', async () => {
      const newer = extractedEntities('doc-versions', { parties: ['New Name LLC'], extractedAt: T0 + 200 });
      await index.upsertResult(newer, 'new text');
      await index.upsertResult(extractedEntities('doc-versions', { parties: ['Old Name LLC'], extractedAt: T0 + 100 }), 'old text');
      await index.upsertResult(newer, 'new text');
      assert.deepEqual((await index.get('doc-versions'))?.result?.entities.map((e) => e.text), ['New Name LLC']);
      assert.deepEqual(ids(await index.search({ party: 'old name' })), []);
      assert.deepEqual(ids(await index.search({ party: 'new name' })), ['doc-versions']);
    });

    it('a NUL character in OCR text does not make a result unindexable', async () => {
      await index.upsertResult(extractedEntities('doc-nul', { parties: ['Nul\u0000Corp'] }), 'text with a \u0000 NUL byte from OCR');
      assert.equal((await index.get('doc-nul'))?.status, 'done');
      assert.deepEqual(ids(await index.search({ q: 'NUL byte' })), ['doc-nul']);
    });

    it('party: partial, case-, accent- and punctuation-insensitive', async () => {
      assert.deepEqual(ids(await index.search({ party: 'acme' })), ['doc-acme', 'doc-initech']);
      assert.deepEqual(ids(await index.search({ party: 'ACME WIDGETS INC' })), ['doc-acme']);
      assert.deepEqual(ids(await index.search({ party: 'globex corp' })), ['doc-acme']);
      assert.deepEqual(ids(await index.search({ party: 'Soylênt' })), ['doc-delaware']);
      assert.deepEqual(ids(await index.search({ party: 'Umbrella' })), []);
      await assert.rejects(index.search({ party: '%%' }), SearchQueryError);
    });

    it('governing law by jurisdiction code (country matches its subdivisions) or by name', async () => {
      assert.deepEqual(ids(await index.search({ law: 'US-NY' })), ['doc-acme']);
      assert.deepEqual(ids(await index.search({ law: 'us-de' })), ['doc-delaware']);
      assert.deepEqual(ids(await index.search({ law: 'US' })), ['doc-acme', 'doc-delaware']);
      assert.deepEqual(ids(await index.search({ law: 'New York' })), ['doc-acme']);
      assert.deepEqual(ids(await index.search({ law: 'england' })), ['doc-initech']);
      assert.deepEqual(ids(await index.search({ law: 'FR' })), []);
    });

    it('date ranges over any date, or one label', async () => {
      assert.deepEqual(ids(await index.search({ from: '2021-01-01', to: '2021-12-31' })), ['doc-initech']);
      assert.deepEqual(ids(await index.search({ from: '2023-01-01' })), ['doc-acme', 'doc-delaware']);
      assert.deepEqual(ids(await index.search({ from: '2023-01-01', dateLabel: 'EFFECTIVE_DATE' })), ['doc-delaware']);
      assert.deepEqual(ids(await index.search({ to: '2019-03-01', dateLabel: 'effective_date' })), ['doc-acme']);
    });

    it('amount ranges, with or without a currency', async () => {
      assert.deepEqual(ids(await index.search({ amountMin: 1000 })), ['doc-acme', 'doc-initech']);
      assert.deepEqual(ids(await index.search({ amountMin: 1000, currency: 'eur' })), ['doc-initech']);
      assert.deepEqual(ids(await index.search({ amountMin: 100_000, amountMax: 300_000 })), ['doc-acme']);
      assert.deepEqual(ids(await index.search({ amountMax: 100, currency: 'USD' })), []);
    });

    it('contract type, status and full text (stemmed, all words), with a snippet', async () => {
      assert.deepEqual(ids(await index.search({ type: 'Services' })), ['doc-acme']);
      assert.deepEqual(ids(await index.search({ status: 'queued' })), ['doc-queued']);
      const hits = await index.search({ q: 'terminating convenience' });
      assert.deepEqual(ids(hits), ['doc-acme']);
      assert.match(hits.documents[0].snippet ?? '', /\[convenience\]/);
      assert.deepEqual(ids(await index.search({ q: 'agreement' })), ['doc-acme', 'doc-delaware', 'doc-initech']);
      assert.deepEqual(ids(await index.search({ q: 'agreement software' })), ['doc-delaware']);
      // Query syntax characters are words' separators, never operators (FTS5 MATCH / tsquery syntax).
      assert.deepEqual(ids(await index.search({ q: 'software" (agreement* -:' })), ['doc-delaware']);
      await assert.rejects(index.search({ q: '"()"' }), SearchQueryError);
    });

    it('a code inside a hyphenated name is found by its parts, also one PostgreSQL reads as a number ("59e0f6")', async () => {
      await index.upsertResult(extractedEntities('doc-code', { parties: ['Codex Ltd'] }), 'Licence it-mxbpovmu-59e0f6 and part 12e4ab-7; ref 1e5a3b.');
      for (const q of ['it mxbpovmu 59e0f6', '59e0f6', 'it-mxbpovmu-59e0f6', '12e4ab', '1e5a3b']) assert.deepEqual(ids(await index.search({ q })), ['doc-code'], q);
    });

    it('filters combine; hits carry parties, law and type; paging is stable', async () => {
      const r = await index.search({ party: 'acme', law: 'US', type: 'services', q: 'globex' });
      assert.equal(r.total, 1);
      assert.deepEqual(r.documents[0].parties, ['Acme Widgets, Inc.', 'Globex Corporation']);
      assert.deepEqual(r.documents[0].governing_law, ['US-NY']);
      assert.equal(r.documents[0].contract_type, 'services');
      assert.equal(r.documents[0].needs_review, false);
      const all = await index.search({ q: 'agreement', limit: 2 });
      assert.equal(all.total, 3);
      assert.deepEqual(all.documents.map((d) => d.document_id), ['doc-delaware', 'doc-initech']);
      const next = await index.search({ q: 'agreement', limit: 2, offset: 2 });
      assert.deepEqual(next.documents.map((d) => d.document_id), ['doc-acme']);
    });
  });
}

indexSuite('SQLite index (node:sqlite, FTS5)', async () => openDocumentIndex({ DOCUMENTS_INDEX_PATH: join(mkdtempSync(join(tmpdir(), 'doc-index-')), 'documents.sqlite') }));

let pglite: PGlite | undefined;
let server: PGLiteSocketServer | undefined;
indexSuite('PostgreSQL index (pg over the wire to PGlite)', async () => {
  pglite = await PGlite.create();
  server = new PGLiteSocketServer({ db: pglite, port: 0, host: '127.0.0.1' });
  await server.start();
  // PGlite is one database session: pooled connections would share it (and its transactions), so one.
  return openDocumentIndex({ DATABASE_URL: `postgres://postgres@${server.getServerConn()}/postgres`, DATABASE_POOL_MAX: '1' });
});
after(async () => {
  await server?.stop();
  await pglite?.close();
});

it('a PostgreSQL index made before the search text was cut into word runs is migrated once, its documents kept', async () => {
  const db = await PGlite.create();
  const socket = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' });
  await socket.start();
  try {
    // The table as the first version created it: the parser's own tokens of the raw text.
    await db.exec(`CREATE TABLE index_meta (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE documents (document_id text PRIMARY KEY, status text NOT NULL, filename text, content_type text, size_bytes bigint,
        sha256 text, blob_uri text, uploaded_at bigint, reason text, result_json text, extracted_at bigint, contract_type text,
        needs_review boolean, updated_at bigint NOT NULL, full_text text,
        text_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', coalesce(full_text, ''))) STORED);
      CREATE INDEX documents_by_text ON documents USING gin (text_tsv);
      INSERT INTO documents (document_id, status, updated_at, full_text) VALUES ('doc-old', 'done', 1, 'Licence it-mxbpovmu-59e0f6.');`);
    const index = await openDocumentIndex({ DATABASE_URL: `postgres://postgres@${socket.getServerConn()}/postgres`, DATABASE_POOL_MAX: '1' });
    try {
      assert.deepEqual(ids(await index.search({ q: '59e0f6' })), ['doc-old']);
      assert.equal((await db.query<{ value: string }>(`SELECT value FROM index_meta WHERE key = 'text_tsv_version'`)).rows[0]?.value, '2');
    } finally {
      await index.close();
    }
  } finally {
    await socket.stop();
    await db.close();
  }
});

describe('normalizeName', () => {
  it('folds case, accents and punctuation', () => {
    assert.equal(normalizeName('  Société  Générale, S.A. '), 'societe generale s a');
    assert.equal(normalizeName('ACME-WIDGETS, INC.'), 'acme widgets inc');
  });
});

describe('openDocumentIndex', () => {
  it('refuses a DATABASE_URL that is not a postgres URL', async () => {
    await assert.rejects(openDocumentIndex({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
  });
});
