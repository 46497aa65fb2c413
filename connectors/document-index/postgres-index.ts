// The index on PostgreSQL (DATABASE_URL), for several API instances sharing one index and for more
// documents than one SQLite file should hold. Full text is a stored generated tsvector ('english'
// configuration: stemmed like SQLite's Porter tokenizer) with a GIN index; the other filters are the
// same SQL as SQLite's (search-sql.ts). Tables are created on first use, under an advisory lock so
// instances starting together do not race.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { ExtractedEntities } from '../../schemas/generated/types.ts';
import {
  DEFAULT_SEARCH_LIMIT,
  MAX_SEARCH_LIMIT,
  distinct,
  entityRows,
  isoOrNull,
  normalizeName,
  type DocumentIndex,
  type DocumentRecord,
  type DocumentStatus,
  type SearchHit,
  type SearchQuery,
  type SearchResult,
  type UploadMeta,
} from './document-index.ts';
import { buildSearchSql } from './search-sql.ts';

// The text is searched as the runs of letters and digits a query is cut into (queryWords), not as
// PostgreSQL's parser reads punctuation: it reads "it-x-59e0f6" as one hyphenated word with the part
// '59e0f6', but the query word "59e0f6" as the number '59e0' and the word 'f6', so a code inside a
// hyphenated name was never found (a CI run's random id did this). Same runs on both sides, same tokens.
const TEXT_TSV = `to_tsvector('english', regexp_replace(coalesce(full_text, ''), '[^[:alnum:]]+', ' ', 'g'))`;
/** Bumped when TEXT_TSV changes: an index made before is migrated once (init). */
const TEXT_TSV_VERSION = '2';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS index_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
  document_id text PRIMARY KEY,
  status text NOT NULL,
  filename text, content_type text, size_bytes bigint, sha256 text, blob_uri text, uploaded_at bigint,
  reason text,
  result_json text, extracted_at bigint, contract_type text, needs_review boolean,
  updated_at bigint NOT NULL,
  full_text text,
  text_tsv tsvector GENERATED ALWAYS AS (${TEXT_TSV}) STORED
);
CREATE INDEX IF NOT EXISTS documents_by_type ON documents (contract_type);
CREATE INDEX IF NOT EXISTS documents_by_upload ON documents (uploaded_at);
CREATE INDEX IF NOT EXISTS documents_by_text ON documents USING gin (text_tsv);
CREATE TABLE IF NOT EXISTS document_entities (
  document_id text NOT NULL, position integer NOT NULL, label text NOT NULL, text text NOT NULL, text_key text NOT NULL,
  normalized text, search_key text, amount double precision, currency text
);
CREATE INDEX IF NOT EXISTS entities_by_document ON document_entities (document_id);
CREATE INDEX IF NOT EXISTS entities_by_key ON document_entities (label, search_key);
CREATE INDEX IF NOT EXISTS entities_by_amount ON document_entities (label, currency, amount);
`;

type Row = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
/**
 * PostgreSQL text cannot hold U+0000 and refuses the whole statement: one OCR'd NUL would make the
 * follower retry that record forever. It is dropped (it carries no meaning in a contract's text).
 */
const pgText = <T extends string | null>(v: T): T => (v === null ? v : (v.replaceAll('\u0000', '') as T));

export class PostgresDocumentIndex implements DocumentIndex {
  readonly description: string;
  private readonly pool: pg.Pool;
  private ready: Promise<void> | null = null;

  constructor(connectionString: string, options: { maxConnections?: number } = {}) {
    this.pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 4, connectionTimeoutMillis: 10_000, statement_timeout: 30_000 });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
    const url = new URL(connectionString);
    this.description = `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`;
  }

  /** Creates the tables (once per process) and the index id. */
  init(): Promise<void> {
    this.ready ??= this.inTransaction(async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('streamscore-document-index'))`);
      await c.query(SCHEMA);
      const tsv = await c.query(`SELECT value FROM index_meta WHERE key = 'text_tsv_version'`);
      if (tsv.rows[0]?.value !== TEXT_TSV_VERSION) {
        // A generated column cannot be altered: drop it (its GIN index goes with it) and add it again.
        await c.query(`ALTER TABLE documents DROP COLUMN IF EXISTS text_tsv`);
        await c.query(`ALTER TABLE documents ADD COLUMN text_tsv tsvector GENERATED ALWAYS AS (${TEXT_TSV}) STORED`);
        await c.query(`CREATE INDEX IF NOT EXISTS documents_by_text ON documents USING gin (text_tsv)`);
        await c.query(`INSERT INTO index_meta (key, value) VALUES ('text_tsv_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [TEXT_TSV_VERSION]);
      }
      await c.query(`INSERT INTO index_meta (key, value) VALUES ('index_id', $1) ON CONFLICT (key) DO NOTHING`, [randomUUID()]);
    }).catch((err) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  async indexId(): Promise<string> {
    await this.init();
    const { rows } = await this.pool.query(`SELECT value FROM index_meta WHERE key = 'index_id'`);
    return rows[0].value as string;
  }

  async upsertUpload(m: UploadMeta): Promise<void> {
    await this.init();
    await this.pool.query(
      `INSERT INTO documents (document_id, status, filename, content_type, size_bytes, sha256, blob_uri, uploaded_at, updated_at)
       VALUES ($1, 'queued', $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (document_id) DO UPDATE SET filename = excluded.filename, content_type = excluded.content_type,
         size_bytes = excluded.size_bytes, sha256 = excluded.sha256, blob_uri = excluded.blob_uri, uploaded_at = excluded.uploaded_at`,
      [m.documentId, pgText(m.filename), m.contentType, m.sizeBytes, m.sha256, m.blobUri, m.uploadedAt, Date.now()],
    );
  }

  async upsertResult(r: ExtractedEntities, fullText: string | null): Promise<void> {
    await this.init();
    await this.inTransaction(async (c) => {
      // Only a result at least as new as the one held replaces it (RETURNING says whether it did).
      const { rowCount } = await c.query(
        `INSERT INTO documents (document_id, status, result_json, extracted_at, contract_type, needs_review, updated_at, reason, full_text)
         VALUES ($1, 'done', $2, $3, $4, $5, $6, NULL, $7)
         ON CONFLICT (document_id) DO UPDATE SET status = 'done', reason = NULL, result_json = excluded.result_json,
           extracted_at = excluded.extracted_at, contract_type = excluded.contract_type, needs_review = excluded.needs_review,
           updated_at = excluded.updated_at, full_text = excluded.full_text
         WHERE documents.extracted_at IS NULL OR documents.extracted_at <= excluded.extracted_at
         RETURNING document_id`,
        [r.document_id, JSON.stringify(r), r.extracted_at, r.contract_type ?? null, r.needs_review, Date.now(), pgText(fullText)],
      );
      if (rowCount === 0) return;
      await c.query('DELETE FROM document_entities WHERE document_id = $1', [r.document_id]);
      const rows = entityRows(r);
      if (rows.length === 0) return;
      const values: unknown[] = [];
      const tuples = rows.map((e, i) => {
        values.push(r.document_id, i, e.label, pgText(e.text), normalizeName(e.text), pgText(e.normalized), e.searchKey && pgText(e.searchKey), e.amount, e.currency);
        return `(${Array.from({ length: 9 }, (_, k) => `$${i * 9 + k + 1}`).join(', ')})`;
      });
      await c.query(`INSERT INTO document_entities (document_id, position, label, text, text_key, normalized, search_key, amount, currency) VALUES ${tuples.join(', ')}`, values);
    });
  }

  async markRejected(documentId: string, reason: string, at: number): Promise<void> {
    await this.init();
    await this.pool.query(
      `INSERT INTO documents (document_id, status, reason, updated_at) VALUES ($1, 'rejected', $2, $3)
       ON CONFLICT (document_id) DO UPDATE SET status = 'rejected', reason = excluded.reason, updated_at = excluded.updated_at
       WHERE documents.status <> 'done'`,
      [documentId, pgText(reason), at],
    );
  }

  async get(documentId: string): Promise<DocumentRecord | null> {
    await this.init();
    const { rows } = await this.pool.query('SELECT document_id, status, filename, content_type, size_bytes, sha256, blob_uri, uploaded_at, updated_at, reason, result_json FROM documents WHERE document_id = $1', [documentId]);
    const row = rows[0] as Row | undefined;
    if (!row) return null;
    return {
      document_id: row.document_id as string,
      status: row.status as DocumentStatus,
      filename: row.filename as string | null,
      content_type: row.content_type as string | null,
      size_bytes: num(row.size_bytes),
      sha256: row.sha256 as string | null,
      blob_uri: row.blob_uri as string | null,
      uploaded_at: isoOrNull(num(row.uploaded_at)),
      updated_at: isoOrNull(num(row.updated_at))!,
      reason: row.reason as string | null,
      result: row.result_json === null ? null : (JSON.parse(row.result_json as string) as ExtractedEntities),
    };
  }

  async search(q: SearchQuery): Promise<SearchResult> {
    await this.init();
    const limit = Math.min(q.limit ?? DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT);
    const offset = q.offset ?? 0;
    const sql = buildSearchSql(q, {
      param: (n) => `$${n}`,
      fullText: (ph) => `d.text_tsv @@ plainto_tsquery('english', ${ph})`,
      fullTextValue: (words) => words.join(' '),
    });
    const n = sql.params.length;
    const total = Number((await this.pool.query(`SELECT count(*) AS n FROM documents d WHERE ${sql.where}`, sql.params)).rows[0].n);
    const snippet = sql.words.length
      ? `ts_headline('english', coalesce(d.full_text, ''), plainto_tsquery('english', $${n + 3}), 'StartSel=[, StopSel=], MaxWords=16, MinWords=6, MaxFragments=1, FragmentDelimiter=…') AS snippet`
      : 'NULL AS snippet';
    const params = [...sql.params, limit, offset, ...(sql.words.length ? [sql.words.join(' ')] : [])];
    const { rows } = await this.pool.query(
      `SELECT d.document_id, d.filename, d.status, d.uploaded_at, d.extracted_at, d.contract_type, d.needs_review, ${snippet}
       FROM documents d WHERE ${sql.where} ORDER BY coalesce(d.uploaded_at, d.updated_at) DESC, d.document_id LIMIT $${n + 1} OFFSET $${n + 2}`,
      params,
    );
    const ids = rows.map((r) => r.document_id as string);
    const facts = ids.length
      ? (await this.pool.query(`SELECT document_id, label, text, normalized, search_key FROM document_entities WHERE document_id = ANY($1) AND label IN ('PARTY', 'GOVERNING_LAW') ORDER BY document_id, position`, [ids])).rows
      : [];
    const documents = rows.map((row): SearchHit => {
      const mine = facts.filter((f) => f.document_id === row.document_id);
      return {
        document_id: row.document_id,
        filename: row.filename,
        status: row.status,
        uploaded_at: isoOrNull(num(row.uploaded_at)),
        extracted_at: isoOrNull(num(row.extracted_at)),
        contract_type: row.contract_type,
        needs_review: row.needs_review,
        parties: distinct(mine.filter((f) => f.label === 'PARTY').map((f) => f.normalized ?? f.text)),
        governing_law: distinct(mine.filter((f) => f.label === 'GOVERNING_LAW').map((f) => f.search_key ?? f.normalized ?? f.text)),
        snippet: row.snippet ?? null,
      };
    });
    return { total, limit, offset, documents };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async inTransaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }
}
