// Which index the environment asks for: PostgreSQL when DATABASE_URL is set (DATABASE_POOL_MAX
// connections, default 4), else the SQLite file
// DOCUMENTS_INDEX_PATH (default <STREAMSCORE_DATA_DIR, default <repo>/.data>/documents.sqlite).
import { join, resolve } from 'node:path';
import type { DocumentIndex } from './document-index.ts';
import { PostgresDocumentIndex } from './postgres-index.ts';
import { SqliteDocumentIndex } from './sqlite-index.ts';

export function defaultSqlitePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCUMENTS_INDEX_PATH) return resolve(env.DOCUMENTS_INDEX_PATH);
  const repoRoot = new URL('../../', import.meta.url).pathname;
  return join(resolve(repoRoot, env.STREAMSCORE_DATA_DIR ?? '.data'), 'documents.sqlite');
}

/** Opens (and for PostgreSQL, creates the tables of) the configured index; errors name the variable. */
export async function openDocumentIndex(env: NodeJS.ProcessEnv = process.env): Promise<DocumentIndex> {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    if (!URL.canParse(url) || !/^postgres(ql)?:$/.test(new URL(url).protocol)) throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL');
    const poolMax = Number(env.DATABASE_POOL_MAX ?? 4);
    if (!Number.isInteger(poolMax) || poolMax < 1) throw new Error(`DATABASE_POOL_MAX=${JSON.stringify(env.DATABASE_POOL_MAX)} must be a whole number >= 1`);
    const index = new PostgresDocumentIndex(url, { maxConnections: poolMax });
    try {
      await index.init();
    } catch (err) {
      await index.close().catch(() => {});
      throw new Error(`document index on ${index.description} (DATABASE_URL): ${(err as Error).message}`, { cause: err });
    }
    return index;
  }
  return new SqliteDocumentIndex(defaultSqlitePath(env));
}
