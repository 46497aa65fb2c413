// Confluent wire format: byte 0 = magic 0, bytes 1-4 = schema id (big-endian), then the Avro body.
// Decoding resolves the writer's schema (by id) to the reader's schema (this code's .avsc), so a
// processor built on v1 reads records written with any BACKWARD-compatible later version.
import avro from 'avsc';
import { AvroDecodeError, ProduceError, WireFormatError } from './errors.ts';
import type { SchemaStore } from './schema-store.ts';

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

interface TopicSchema {
  /** Registry id when this serde writes the topic; null when it only reads it. */
  id: number | null;
  type: avro.Type;
}

export class AvroSerde {
  private readonly store: SchemaStore;
  private readonly topics = new Map<string, TopicSchema>();
  private readonly resolvers = new Map<string, avro.Type | avro.Resolver>();

  constructor(store: SchemaStore) {
    this.store = store;
  }

  /** Registers the topic's value schema (subject `<topic>-value`) and remembers it as reader and writer schema. */
  async useTopic(topic: string, schema: object): Promise<number> {
    const existing = this.topics.get(topic);
    if (existing?.id != null) return existing.id;
    const id = await this.store.register(`${topic}-value`, schema);
    this.topics.set(topic, { id, type: avro.Type.forSchema(schema as avro.Schema) });
    return id;
  }

  /** Sets the reader schema for a topic this serde only consumes (no registration: producers register). */
  useReader(topic: string, schema: object): void {
    if (!this.topics.has(topic)) this.topics.set(topic, { id: null, type: avro.Type.forSchema(schema as avro.Schema) });
  }

  /**
   * Replaces the reader schema of a topic this serde only consumes, e.g. with a newer registered
   * version so that a new optional field is read instead of dropped (the Parquet sink follows the
   * subject's latest schema). Cached writer->reader resolvers of the topic are dropped.
   */
  replaceReader(topic: string, type: avro.Type): void {
    const current = this.topics.get(topic);
    if (current?.id != null) throw new Error(`topic ${topic} is written by this serde; its schema is fixed by useTopic`);
    this.topics.set(topic, { id: null, type });
    for (const key of this.resolvers.keys()) if (key.startsWith(`${topic}\u0000`)) this.resolvers.delete(key);
  }

  schemaId(topic: string): number | null {
    return this.topicSchema(topic).id;
  }

  encode(topic: string, value: unknown): Buffer {
    const { id, type } = this.topicSchema(topic);
    if (id === null) throw new Error(`topic ${topic} is read-only in this serde (register it with useTopic to write)`);
    let body: Buffer;
    try {
      body = type.toBuffer(value);
    } catch (err) {
      throw new ProduceError(`value does not match ${type.name ?? topic}: ${invalidPaths(type, value) || (err as Error).message}`, { cause: err });
    }
    const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    out.writeUInt8(MAGIC_BYTE, 0);
    out.writeInt32BE(id, 1);
    body.copy(out, HEADER_BYTES);
    return out;
  }

  async decode(topic: string, bytes: Buffer | null): Promise<unknown> {
    if (!bytes || bytes.length < HEADER_BYTES) throw new WireFormatError(`record of ${bytes?.length ?? 0} bytes is too short for the Confluent wire format`);
    if (bytes[0] !== MAGIC_BYTE) throw new WireFormatError(`unknown magic byte ${bytes[0]} (expected 0: Confluent wire format)`);
    const writerId = bytes.readInt32BE(1);
    const reader = this.topicSchema(topic).type;
    const key = `${topic}\u0000${writerId}`;
    let resolver = this.resolvers.get(key);
    if (!resolver) {
      const writer = await this.store.writerType(writerId);
      try {
        resolver = reader.equals(writer) ? reader : reader.createResolver(writer);
      } catch (err) {
        throw new AvroDecodeError(`writer schema ${writerId} cannot be read as ${reader.name}: ${(err as Error).message}`, err);
      }
      this.resolvers.set(key, resolver);
    }
    try {
      const body = bytes.subarray(HEADER_BYTES);
      return resolver === reader ? reader.fromBuffer(body) : reader.fromBuffer(body, resolver as avro.Resolver);
    } catch (err) {
      throw new AvroDecodeError(`payload does not decode with schema ${writerId}: ${(err as Error).message}`, err);
    }
  }

  private topicSchema(topic: string): TopicSchema {
    const s = this.topics.get(topic);
    if (!s) throw new Error(`topic ${topic} has no schema registered in this serde (call useTopic first)`);
    return s;
  }
}

function invalidPaths(type: avro.Type, value: unknown): string {
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path, v) => paths.push(`${path.join('.') || '(root)'}=${JSON.stringify(v)?.slice(0, 60)}`) });
  return paths.length ? `invalid field(s) ${paths.join(', ')}` : '';
}
