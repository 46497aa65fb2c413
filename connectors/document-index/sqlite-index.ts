// The embedded index: one SQLite file through node:sqlite (Node 24's built-in binding, compiled with
// FTS5), WAL journal so readers do not wait for the writer. Full text in an FTS5 table with the
// Porter stemmer over unicode61 (accents folded). node:sqlite is synchronous: each call is short
// (one document's rows, one page of hits), so it runs on the event loop; an index too busy for that
// belongs on PostgreSQL (postgres-index.ts).
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
  document_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  filename TEXT, content_type TEXT, size_bytes INTEGER, sha256 TEXT, blob_uri TEXT, uploaded_at INTEGER,
  reason TEXT,
  result_json TEXT, extracted_at INTEGER, contract_type TEXT, needs_review INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_by_type ON documents(contract_type);
CREATE INDEX IF NOT EXISTS documents_by_upload ON documents(uploaded_at);
CREATE TABLE IF NOT EXISTS document_entities (
  document_id TEXT NOT NULL, position INTEGER NOT NULL, label TEXT NOT NULL, text TEXT NOT NULL, text_key TEXT NOT NULL,
  normalized TEXT, search_key TEXT, amount REAL, currency TEXT
);
CREATE INDEX IF NOT EXISTS entities_by_document ON document_entities(document_id);
CREATE INDEX IF NOT EXISTS entities_by_key ON document_entities(label, search_key);
CREATE INDEX IF NOT EXISTS entities_by_amount ON document_entities(label, currency, amount);
CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5(document_id UNINDEXED, body, tokenize = 'porter unicode61 remove_diacritics 2');
`;

type Row = Record<string, string | number | null>;

export class SqliteDocumentIndex implements DocumentIndex {
  readonly description: string;
  private readonly db: DatabaseSync;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
    this.db.exec(SCHEMA);
    this.db.prepare('INSERT OR IGNORE INTO index_meta (key, value) VALUES (?, ?)').run('index_id', randomUUID());
    this.description = `SQLite ${path}`;
  }

  async indexId(): Promise<string> {
    return (this.db.prepare(`SELECT value FROM index_meta WHERE key = 'index_id'`).get() as Row).value as string;
  }

  async upsertUpload(m: UploadMeta): Promise<void> {
    // The status is left alone on conflict: a result or rejection may have been indexed first.
    this.db
      .prepare(
        `INSERT INTO documents (document_id, status, filename, content_type, size_bytes, sha256, blob_uri, uploaded_at, updated_at)
         VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (document_id) DO UPDATE SET filename = excluded.filename, content_type = excluded.content_type,
           size_bytes = excluded.size_bytes, sha256 = excluded.sha256, blob_uri = excluded.blob_uri, uploaded_at = excluded.uploaded_at`,
      )
      .run(m.documentId, m.filename, m.contentType, m.sizeBytes, m.sha256, m.blobUri, m.uploadedAt, Date.now());
  }

  async upsertResult(r: ExtractedEntities, fullText: string | null): Promise<void> {
    const id = r.document_id;
    this.transaction(() => {
      const held = this.db.prepare('SELECT extracted_at FROM documents WHERE document_id = ?').get(id) as Row | undefined;
      if (held?.extracted_at != null && Number(held.extracted_at) > r.extracted_at) return;
      this.db
        .prepare(
          `INSERT INTO documents (document_id, status, result_json, extracted_at, contract_type, needs_review, updated_at, reason)
           VALUES (?, 'done', ?, ?, ?, ?, ?, NULL)
           ON CONFLICT (document_id) DO UPDATE SET status = 'done', reason = NULL, result_json = excluded.result_json,
             extracted_at = excluded.extracted_at, contract_type = excluded.contract_type, needs_review = excluded.needs_review,
             updated_at = excluded.updated_at`,
        )
        .run(id, JSON.stringify(r), r.extracted_at, r.contract_type ?? null, r.needs_review ? 1 : 0, Date.now());
      this.db.prepare('DELETE FROM document_entities WHERE document_id = ?').run(id);
      const insert = this.db.prepare('INSERT INTO document_entities (document_id, position, label, text, text_key, normalized, search_key, amount, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      entityRows(r).forEach((e, i) => insert.run(id, i, e.label, e.text, normalizeName(e.text), e.normalized, e.searchKey, e.amount, e.currency));
      this.db.prepare('DELETE FROM documents_fts WHERE document_id = ?').run(id);
      if (fullText) this.db.prepare('INSERT INTO documents_fts (document_id, body) VALUES (?, ?)').run(id, fullText);
    });
  }

  async markRejected(documentId: string, reason: string, at: number): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO documents (document_id, status, reason, updated_at) VALUES (?, 'rejected', ?, ?)
         ON CONFLICT (document_id) DO UPDATE SET status = 'rejected', reason = excluded.reason, updated_at = excluded.updated_at
         WHERE documents.status <> 'done'`,
      )
      .run(documentId, reason, at);
  }

  async get(documentId: string): Promise<DocumentRecord | null> {
    const row = this.db.prepare('SELECT * FROM documents WHERE document_id = ?').get(documentId) as Row | undefined;
    if (!row) return null;
    return {
      document_id: row.document_id as string,
      status: row.status as DocumentStatus,
      filename: row.filename as string | null,
      content_type: row.content_type as string | null,
      size_bytes: row.size_bytes === null ? null : Number(row.size_bytes),
      sha256: row.sha256 as string | null,
      blob_uri: row.blob_uri as string | null,
      uploaded_at: isoOrNull(row.uploaded_at as number | null),
      updated_at: isoOrNull(row.updated_at as number)!,
      reason: row.reason as string | null,
      result: row.result_json === null ? null : (JSON.parse(row.result_json as string) as ExtractedEntities),
    };
  }

  async search(q: SearchQuery): Promise<SearchResult> {
    const limit = Math.min(q.limit ?? DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT);
    const offset = q.offset ?? 0;
    const sql = buildSearchSql(q, {
      param: () => '?',
      fullText: (ph) => `d.document_id IN (SELECT document_id FROM documents_fts WHERE documents_fts MATCH ${ph})`,
      // Each word quoted: an FTS5 string, never an operator; words hold only letters and digits.
      fullTextValue: (words) => words.map((w) => `"${w}"`).join(' '),
    });
    const params = sql.params as (string | number)[];
    const total = Number((this.db.prepare(`SELECT count(*) AS n FROM documents d WHERE ${sql.where}`).get(...params) as Row).n);
    const rows = this.db
      .prepare(`SELECT * FROM documents d WHERE ${sql.where} ORDER BY coalesce(d.uploaded_at, d.updated_at) DESC, d.document_id LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as Row[];
    const documents = rows.map((row): SearchHit => {
      const id = row.document_id as string;
      const facts = this.db.prepare(`SELECT label, text, normalized, search_key FROM document_entities WHERE document_id = ? AND label IN ('PARTY', 'GOVERNING_LAW') ORDER BY position`).all(id) as Row[];
      let snippet: string | null = null;
      if (sql.words.length) {
        const s = this.db.prepare(`SELECT snippet(documents_fts, 1, '[', ']', '…', 16) AS s FROM documents_fts WHERE documents_fts MATCH ? AND document_id = ?`).get(sql.words.map((w) => `"${w}"`).join(' '), id) as Row | undefined;
        snippet = (s?.s as string | undefined) ?? null;
      }
      return {
        document_id: id,
        filename: row.filename as string | null,
        status: row.status as DocumentStatus,
        uploaded_at: isoOrNull(row.uploaded_at as number | null),
        extracted_at: isoOrNull(row.extracted_at as number | null),
        contract_type: row.contract_type as string | null,
        needs_review: row.needs_review === null ? null : row.needs_review === 1,
        parties: distinct(facts.filter((f) => f.label === 'PARTY').map((f) => (f.normalized ?? f.text) as string)),
        governing_law: distinct(facts.filter((f) => f.label === 'GOVERNING_LAW').map((f) => (f.search_key ?? f.normalized ?? f.text) as string)),
        snippet,
      };
    });
    return { total, limit, offset, documents };
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }

  private transaction(fn: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      fn();
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }
}
