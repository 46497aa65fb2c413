// Where writer schemas come from. Production uses a Confluent-API registry (Apicurio's ccompat API in
// the embedded stack) over fetch, with timeouts, retries and credentials (ConfluentSchemaStore). The
// in-memory store is for the test driver only.
import avro from 'avsc';
import { AvroDecodeError, RegistryUnavailableError, StreamError, UnknownSchemaError } from './errors.ts';
import { registryAuthHeaders } from './connection-security.ts';
import type { Logger } from './logger.ts';
import { errorLine, withRetry } from './retry.ts';

export interface SchemaStore {
  /** Registers `schema` under `subject` with BACKWARD compatibility enforced by the registry; returns its id. */
  register(subject: string, schema: object): Promise<number>;
  /** The writer schema for a record's schema id. Throws UnknownSchemaError or RegistryUnavailableError. */
  writerType(id: number): Promise<avro.Type>;
  /** Id of the subject's latest version, or null when the subject has none yet. */
  latestId(subject: string): Promise<number | null>;
  /**
   * The schema of an id as registered, JSON-parsed. Unlike writerType() it keeps every attribute:
   * avsc drops `logicalType` from types it has no implementation for, and the Parquet sink needs it
   * to write timestamp columns.
   */
  schemaJson(id: number): Promise<object>;
}

/** How long an unknown id is remembered, so a flood of poison records does not become a flood of HTTP calls. */
const UNKNOWN_ID_TTL_MS = 30_000;
/** Every registry request ends within this, answered or not: a registry that accepts a connection and never answers must not hang a start. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface ConfluentSchemaStoreOptions {
  /** Sent with every request; default: registryAuthHeaders() (SCHEMA_REGISTRY_TOKEN or SCHEMA_REGISTRY_USER/_PASSWORD). */
  headers?: Record<string, string>;
  requestTimeoutMs?: number;
  /** Attempts per call for transient failures (network, timeouts, 5xx, 429), with backoff. */
  attempts?: number;
  /** Bound on the time one call may spend retrying. */
  maxRetryMs?: number;
  log?: Logger;
}

class RegistryHttpError extends Error {
  readonly status: number;
  readonly retriable: boolean;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'RegistryHttpError';
    this.status = status;
    this.retriable = status >= 500 || status === 429 || status === 408;
  }
}

/**
 * The Confluent schema-registry REST API over fetch (Apicurio's ccompat API in the embedded stack):
 * register with BACKWARD compatibility, writer schemas by id (cached; concurrent misses share one
 * request), latest id of a subject. Every request has a timeout and carries the configured
 * credentials; transient failures are retried with backoff and a bound, then reported in one line.
 */
export class ConfluentSchemaStore implements SchemaStore {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly options: ConfluentSchemaStoreOptions;
  private readonly unknownIds = new Map<number, number>();
  private readonly jsonById = new Map<number, Promise<object>>();
  private readonly typeById = new Map<number, avro.Type>();
  private readonly compatibilitySet = new Set<string>();

  constructor(url: string, options: ConfluentSchemaStoreOptions = {}) {
    if (!/^https?:\/\//.test(url)) throw new Error(`schema registry URL ${JSON.stringify(url)} must start with http:// or https:// (SCHEMA_REGISTRY_URL)`);
    this.url = url.replace(/\/+$/, '');
    this.headers = { accept: 'application/vnd.schemaregistry.v1+json, application/json', ...(options.headers ?? registryAuthHeaders()) };
    this.options = options;
  }

  async schemaJson(id: number): Promise<object> {
    const knownUnknownAt = this.unknownIds.get(id);
    if (knownUnknownAt !== undefined && Date.now() - knownUnknownAt < UNKNOWN_ID_TTL_MS) throw new UnknownSchemaError(id);
    let pending = this.jsonById.get(id);
    if (!pending) {
      pending = this.request<{ schema: string; schemaType?: string }>('GET', `/schemas/ids/${id}`, undefined, `fetching schema ${id}`).then((body) => {
        if (body.schemaType && body.schemaType !== 'AVRO') throw new AvroDecodeError(`schema ${id} is ${body.schemaType}, not Avro`);
        return JSON.parse(body.schema) as object;
      });
      this.jsonById.set(id, pending);
      pending.catch(() => this.jsonById.delete(id));
    }
    try {
      return await pending;
    } catch (err) {
      if (err instanceof RegistryHttpError && err.status === 404) {
        this.unknownIds.set(id, Date.now());
        throw new UnknownSchemaError(id, err);
      }
      if (err instanceof StreamError) throw err;
      throw new RegistryUnavailableError(errorLine(err), err);
    }
  }

  async writerType(id: number): Promise<avro.Type> {
    const cached = this.typeById.get(id);
    if (cached) return cached;
    const schema = await this.schemaJson(id);
    let type: avro.Type;
    try {
      type = avro.Type.forSchema(schema as avro.Schema);
    } catch (err) {
      throw new AvroDecodeError(`schema ${id} in the registry is not a valid Avro schema: ${(err as Error).message}`, err);
    }
    this.typeById.set(id, type);
    return type;
  }

  async register(subject: string, schema: object): Promise<number> {
    if (!this.compatibilitySet.has(subject)) {
      // Idempotent; the registry then refuses a version that old readers could not read.
      await this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: 'BACKWARD' }, `setting BACKWARD compatibility of ${subject}`);
      this.compatibilitySet.add(subject);
    }
    try {
      const { id } = await this.request<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(schema) }, `registering a schema under ${subject}`);
      return id;
    } catch (err) {
      if (err instanceof RegistryHttpError && err.status === 409) throw new Error(`schema for ${subject} is not BACKWARD compatible with its latest version: ${err.message}`, { cause: err });
      throw err;
    }
  }

  async latestId(subject: string): Promise<number | null> {
    try {
      const { id } = await this.request<{ id: number }>('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`, undefined, `looking up the latest ${subject}`);
      return id;
    } catch (err) {
      if (err instanceof RegistryHttpError && err.status === 404) return null;
      throw new RegistryUnavailableError(errorLine(err), err);
    }
  }

  private request<T>(method: string, path: string, body: object | undefined, what: string): Promise<T> {
    return withRetry(
      async () => {
        let res: Response;
        try {
          res = await fetch(`${this.url}${path}`, {
            method,
            headers: body ? { ...this.headers, 'content-type': 'application/vnd.schemaregistry.v1+json' } : this.headers,
            body: body ? JSON.stringify(body) : undefined,
            signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS),
          });
        } catch (err) {
          const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${this.options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS} ms` : errorLine(err);
          throw Object.assign(new Error(`schema registry ${this.url} unreachable: ${reason}`, { cause: err }), { retriable: true });
        }
        const text = await res.text();
        if (!res.ok) {
          let detail = text.slice(0, 300);
          try {
            detail = (JSON.parse(text) as { message?: string }).message ?? detail;
          } catch {
            // not JSON: keep the text
          }
          const hint = res.status === 401 || res.status === 403 ? ' (check SCHEMA_REGISTRY_USER/_PASSWORD or SCHEMA_REGISTRY_TOKEN)' : '';
          throw new RegistryHttpError(res.status, `schema registry answered ${res.status} to ${method} ${path}: ${detail}${hint}`);
        }
        return JSON.parse(text) as T;
      },
      { what, attempts: this.options.attempts ?? 4, maxElapsedMs: this.options.maxRetryMs ?? 30_000, log: this.options.log },
    );
  }
}

/** A registry in memory with the same id semantics (ids global, one per distinct schema). */
export class MemorySchemaStore implements SchemaStore {
  private readonly byId = new Map<number, avro.Type>();
  private readonly jsonById = new Map<number, object>();
  private readonly idByCanonical = new Map<string, number>();
  readonly subjects = new Map<string, number[]>();

  async register(subject: string, schema: object): Promise<number> {
    const type = avro.Type.forSchema(schema as avro.Schema);
    const canonical = JSON.stringify(type.schema());
    const versions = this.subjects.get(subject) ?? [];
    const latest = versions.length ? this.byId.get(versions[versions.length - 1]) : undefined;
    if (latest) {
      try {
        type.createResolver(latest); // BACKWARD: the new schema must read data written with the previous one
      } catch (err) {
        throw new Error(`schema for ${subject} is not BACKWARD compatible: ${(err as Error).message}`);
      }
    }
    let id = this.idByCanonical.get(canonical);
    if (id === undefined) {
      id = this.byId.size + 1;
      this.byId.set(id, type);
      this.jsonById.set(id, schema);
      this.idByCanonical.set(canonical, id);
    }
    if (!versions.includes(id)) this.subjects.set(subject, [...versions, id]);
    return id;
  }

  async latestId(subject: string): Promise<number | null> {
    return this.subjects.get(subject)?.at(-1) ?? null;
  }

  async schemaJson(id: number): Promise<object> {
    const schema = this.jsonById.get(id);
    if (!schema) throw new UnknownSchemaError(id);
    return schema;
  }

  async writerType(id: number): Promise<avro.Type> {
    const type = this.byId.get(id);
    if (!type) throw new UnknownSchemaError(id);
    return type;
  }
}
