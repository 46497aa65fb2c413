// Where writer schemas come from. Production uses a Confluent-API registry (Apicurio's ccompat API in
// the embedded stack) through @kafkajs/confluent-schema-registry, which caches schemas by id and
// de-duplicates concurrent misses. The in-memory store is for the test driver only.
import avro from 'avsc';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { RegistryUnavailableError, UnknownSchemaError } from './errors.ts';

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

export class ConfluentSchemaStore implements SchemaStore {
  private readonly registry: SchemaRegistry;
  private readonly url: string;
  private readonly unknownIds = new Map<number, number>();
  private readonly jsonById = new Map<number, object>();

  constructor(url: string) {
    this.url = url.replace(/\/+$/, '');
    this.registry = new SchemaRegistry({ host: url, clientId: 'streamscore', retry: { retries: 2 } });
  }

  async schemaJson(id: number): Promise<object> {
    const cached = this.jsonById.get(id);
    if (cached) return cached;
    let res: Response;
    try {
      res = await fetch(`${this.url}/schemas/ids/${id}`, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new RegistryUnavailableError(`schema registry unavailable while fetching schema ${id}: ${(err as Error).message}`, err);
    }
    if (res.status === 404) throw new UnknownSchemaError(id);
    if (!res.ok) throw new RegistryUnavailableError(`schema registry answered ${res.status} for schema ${id}`);
    const schema = JSON.parse(((await res.json()) as { schema: string }).schema) as object;
    this.jsonById.set(id, schema);
    return schema;
  }

  async register(subject: string, schema: object): Promise<number> {
    const { id } = await this.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    return id;
  }

  async writerType(id: number): Promise<avro.Type> {
    const knownUnknownAt = this.unknownIds.get(id);
    if (knownUnknownAt !== undefined && Date.now() - knownUnknownAt < UNKNOWN_ID_TTL_MS) throw new UnknownSchemaError(id);
    try {
      return (await this.registry.getSchema(id)) as unknown as avro.Type;
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 404) {
        this.unknownIds.set(id, Date.now());
        throw new UnknownSchemaError(id, err);
      }
      // The client reports connection failures as status 400; any non-404 is "try again later".
      throw new RegistryUnavailableError(`schema registry unavailable while fetching schema ${id}: ${(err as Error).message}`, err);
    }
  }

  async latestId(subject: string): Promise<number | null> {
    try {
      return await this.registry.getLatestSchemaId(subject);
    } catch (err) {
      if ((err as { status?: number }).status === 404) return null;
      throw new RegistryUnavailableError(`schema registry unavailable while looking up the latest ${subject}: ${(err as Error).message}`, err);
    }
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
