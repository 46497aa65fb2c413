// Avro record schema -> Arrow columns for Parquet. The mapping is what Spark reads without settings:
// timestamp-millis -> Timestamp(ms, UTC) (parquet-rs writes the TIMESTAMP(MILLIS, isAdjustedToUTC)
// logical type, Spark's TimestampType), date -> Date32, enums -> strings, ["null", T] -> nullable T.
// Only flat records (plus arrays of primitives) are supported: a lake table is for SQL, and a schema
// with nested records fails at start-up with the field named, not halfway through a file.
import {
  Bool, DateDay, Field, Float32, Float64, Int32, Int64, List, Schema, Table, TimestampMillisecond, Utf8, vectorFromArray,
  type DataType, type Vector,
} from 'apache-arrow';

/** Provenance columns appended to every row: with them `(kafka_partition, kafka_offset)` is unique in the lake. */
export const PROVENANCE_COLUMNS = ['kafka_partition', 'kafka_offset'] as const;

export interface LakeColumn {
  name: string;
  type: DataType;
  /** Avro value (as avsc decodes it) -> the value Arrow's builder takes. */
  convert: (value: unknown) => unknown;
}

export interface LakeRow {
  value: Record<string, unknown>;
  partition: number;
  offset: bigint;
}

type AvroField = { name: string; type: unknown };

const identity = (v: unknown) => v;
const DAY_MS = 86_400_000;

function primitiveColumn(name: string, avroType: unknown, where: string): LakeColumn {
  const t = avroType as string | { type: string; logicalType?: string; items?: unknown; symbols?: string[] };
  const kind = typeof t === 'string' ? t : t.type;
  const logical = typeof t === 'string' ? undefined : t.logicalType;
  if (kind === 'long' && (logical === 'timestamp-millis' || logical === 'timestamp-micros')) {
    // avsc decodes timestamp-millis as a number of ms; micros as a number of µs.
    const toMs = logical === 'timestamp-micros' ? (v: unknown) => (v == null ? v : Math.floor(Number(v) / 1000)) : identity;
    return { name, type: new TimestampMillisecond('UTC'), convert: (v) => (v instanceof Date ? v.getTime() : toMs(v)) };
  }
  if (kind === 'int' && logical === 'date') return { name, type: new DateDay(), convert: (v) => (v == null ? v : new Date(Number(v) * DAY_MS)) };
  switch (kind) {
    case 'string':
    case 'enum':
      return { name, type: new Utf8(), convert: identity };
    case 'double':
      return { name, type: new Float64(), convert: identity };
    case 'float':
      return { name, type: new Float32(), convert: identity };
    case 'int':
      return { name, type: new Int32(), convert: identity };
    case 'long':
      return { name, type: new Int64(), convert: (v) => (v == null ? v : BigInt(v as number)) };
    case 'boolean':
      return { name, type: new Bool(), convert: identity };
    case 'array': {
      const items = (t as { items: unknown }).items;
      const inner = primitiveColumn('item', items, `${where}[]`);
      if (inner.type instanceof List) throw new Error(`${where}: nested arrays are not supported in the lake`);
      return {
        name,
        type: new List(new Field('item', inner.type, true)),
        convert: (v) => (v == null ? v : (v as unknown[]).map(inner.convert)),
      };
    }
    default:
      throw new Error(`${where}: Avro type ${JSON.stringify(kind)} has no lake column mapping (flat records of primitives only)`);
  }
}

/** Lake columns for an Avro record schema: its fields in order, then the provenance columns. */
export function lakeColumns(recordSchema: object): LakeColumn[] {
  const record = recordSchema as { name?: string; type?: string; fields?: AvroField[] };
  if (record.type !== 'record' || !Array.isArray(record.fields)) throw new Error('lake tables need an Avro record schema');
  const columns = record.fields.map((f) => {
    const where = `${record.name}.${f.name}`;
    const branches = Array.isArray(f.type) ? f.type.filter((b) => b !== 'null') : [f.type];
    if (branches.length !== 1) throw new Error(`${where}: unions other than ["null", T] are not supported in the lake`);
    if ((PROVENANCE_COLUMNS as readonly string[]).includes(f.name)) throw new Error(`${where}: the field name is reserved for the lake's provenance column`);
    return primitiveColumn(f.name, branches[0], where);
  });
  return [
    ...columns,
    { name: 'kafka_partition', type: new Int32(), convert: identity },
    { name: 'kafka_offset', type: new Int64(), convert: identity },
  ];
}

/** One Arrow table of rows; every column nullable, as Spark and pyarrow expect of written files. */
export function rowsToTable(columns: LakeColumn[], rows: LakeRow[]): Table {
  const vectors: Record<string, Vector> = {};
  for (const c of columns) {
    const values = new Array(rows.length);
    if (c.name === 'kafka_partition') for (let i = 0; i < rows.length; i++) values[i] = rows[i].partition;
    else if (c.name === 'kafka_offset') for (let i = 0; i < rows.length; i++) values[i] = rows[i].offset;
    else for (let i = 0; i < rows.length; i++) values[i] = c.convert(rows[i].value[c.name] ?? null);
    vectors[c.name] = vectorFromArray(values, c.type);
  }
  const table = new Table(vectors);
  // Keep the declared column order and nullability even when a batch happens to have no nulls.
  return new Table(new Schema(columns.map((c) => new Field(c.name, c.type, true))), table.batches);
}
