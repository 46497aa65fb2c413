// Checks the .avsc files: they parse, follow the house conventions, round-trip the samples,
// evolve compatibly, and match the generated TypeScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import avro from 'avsc';
import { findSchemaFiles, generate, GENERATED_TYPES_PATH } from './codegen.ts';
import { loadSchema } from './topics.ts';
import { SAMPLE_RECORDS } from './sample-records.ts';

type Node = { [key: string]: unknown };
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);

const SCHEMA_FILES = findSchemaFiles();

function parse(file: string): avro.Type {
  return avro.Type.forSchema(loadSchema(file) as avro.Schema);
}

/** 'SensorReading' -> 'sensor-reading' */
function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** Every convention breach in one schema file, as readable lines. */
function conventionProblems(file: string, root: Node): string[] {
  const problems: string[] = [];
  const domain = dirname(file);
  if (root.type !== 'record') problems.push(`${file}: top level must be a record`);
  if (root.namespace !== `io.streamscore.${domain}`) problems.push(`${file}: namespace must be io.streamscore.${domain}`);
  if (`${kebab(String(root.name))}.avsc` !== basename(file)) problems.push(`${file}: file must be named ${kebab(String(root.name))}.avsc`);

  const visitType = (type: unknown, where: string): void => {
    if (Array.isArray(type)) {
      if (type.length !== 2 || type[0] !== 'null') problems.push(`${where}: unions must be ["null", T]`);
      type.forEach((branch) => visitType(branch, where));
      return;
    }
    if (!isNode(type)) return;
    if (type.type === 'array') return visitType(type.items, `${where}[]`);
    if (type.type === 'map') return visitType(type.values, `${where}{}`);
    if (type.type !== 'record' && type.type !== 'enum') return;
    const name = `${where} (${String(type.name)})`;
    if (typeof type.doc !== 'string' || type.doc.trim() === '') problems.push(`${name}: ${type.type} has no doc`);
    if (type.type === 'enum') return;
    for (const field of Array.isArray(type.fields) ? type.fields : []) {
      const at = `${file} ${String(type.name)}.${String(field.name)}`;
      if (!/^[a-z][a-z0-9_]*$/.test(field.name)) problems.push(`${at}: field names are snake_case`);
      if (typeof field.doc !== 'string' || field.doc.trim() === '') problems.push(`${at}: field has no doc`);
      if (Array.isArray(field.type) && field.default !== null) problems.push(`${at}: optional field needs "default": null`);
      if (/(_at|_time|timestamp)$/.test(field.name)) {
        const inner = Array.isArray(field.type) ? field.type[1] : field.type;
        if (!isNode(inner) || inner.type !== 'long' || inner.logicalType !== 'timestamp-millis') {
          problems.push(`${at}: time fields are {"type":"long","logicalType":"timestamp-millis"}`);
        }
      }
      visitType(field.type, at);
    }
  };
  visitType(root, file);
  return problems;
}

/** Decoded avsc records are class instances; compare them as plain data. */
function toPlain(value: unknown): unknown {
  if (Buffer.isBuffer(value) || !value || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toPlain);
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toPlain(inner)]));
}

test('there is a schema file for every domain the pipelines need', () => {
  const domains = new Set(SCHEMA_FILES.map((file) => dirname(file)));
  assert.deepEqual([...domains].sort(), ['docs', 'factory', 'models', 'runtime', 'telecom', 'vision']);
});

for (const file of SCHEMA_FILES) {
  test(`${file} parses with avsc and follows the conventions`, () => {
    const type = parse(file);
    assert.equal(type.typeName, 'record');
    assert.deepEqual(conventionProblems(file, loadSchema(file) as Node), []);
  });

  test(`${file} round-trips its samples`, () => {
    const type = parse(file);
    const samples = SAMPLE_RECORDS[file];
    assert.ok(samples && samples.length > 0, `no samples for ${file} in sample-records.ts`);
    for (const sample of samples) {
      const invalidPaths: string[] = [];
      const valid = type.isValid(sample, { errorHook: (path) => invalidPaths.push(path.join('.')) });
      assert.ok(valid, `sample does not match ${file} at: ${invalidPaths.join(', ')}`);
      const bytes = type.toBuffer(sample);
      const decoded = type.fromBuffer(bytes);
      assert.deepEqual(toPlain(decoded), sample);
      assert.ok(type.toBuffer(decoded).equals(bytes), 're-encoding the decoded value gives other bytes');
    }
  });
}

test('the convention check catches a breach (so the checks above can fail)', () => {
  const schema = structuredClone(loadSchema('factory/sensor-reading.avsc')) as { fields: Node[] };
  schema.fields.push({ name: 'firmwareVersion', type: ['string', 'null'] });
  schema.fields.push({ name: 'received_at', type: 'long', doc: 'x' });
  const problems = conventionProblems('factory/sensor-reading.avsc', schema as Node);
  assert.equal(problems.length, 5, problems.join('\n'));
});

// Schema evolution. The registry's default mode, BACKWARD, means a consumer on the new schema
// reads data written with the old one; FORWARD means old consumers read new data. Adding an
// optional field with a default must pass both, so producers and consumers upgrade in any order.
test('adding an optional field to SensorReading is backward and forward compatible', () => {
  const v1Schema = loadSchema('factory/sensor-reading.avsc') as { fields: Node[] };
  const v2Schema = structuredClone(v1Schema);
  v2Schema.fields.push({ name: 'firmware_version', type: ['null', 'string'], default: null, doc: 'Gateway firmware.' });
  const v1 = avro.Type.forSchema(v1Schema as avro.Schema);
  const v2 = avro.Type.forSchema(v2Schema as avro.Schema);
  const [reading] = SAMPLE_RECORDS['factory/sensor-reading.avsc'];

  // FORWARD: an old (v1) reader reads a record written by a new (v2) producer.
  const writtenByV2 = v2.toBuffer({ ...reading, firmware_version: '4.2.1' });
  assert.deepEqual(toPlain(v1.fromBuffer(writtenByV2, v1.createResolver(v2))), reading);

  // BACKWARD: a new (v2) reader reads a record written by an old (v1) producer; the default fills in.
  const writtenByV1 = v1.toBuffer(reading);
  assert.deepEqual(toPlain(v2.fromBuffer(writtenByV1, v2.createResolver(v1))), { ...reading, firmware_version: null });
});

test('adding a required field without a default is caught as backward incompatible', () => {
  const v1Schema = loadSchema('factory/sensor-reading.avsc') as { fields: Node[] };
  const v2Schema = structuredClone(v1Schema);
  v2Schema.fields.push({ name: 'firmware_version', type: 'string', doc: 'Gateway firmware.' });
  const v1 = avro.Type.forSchema(v1Schema as avro.Schema);
  const v2 = avro.Type.forSchema(v2Schema as avro.Schema);
  assert.throws(() => v2.createResolver(v1), /firmware_version/);
});

test('generated/types.ts is up to date with the .avsc files', () => {
  const onDisk = readFileSync(GENERATED_TYPES_PATH, 'utf8').split('\n');
  const expected = generate().split('\n');
  // Report the first differing line rather than two 20 kB strings.
  const line = expected.findIndex((text, i) => text !== onDisk[i]);
  const at = line === -1 && onDisk.length !== expected.length ? expected.length : line;
  assert.equal(at, -1, `generated/types.ts differs at line ${at + 1}: expected ${JSON.stringify(expected[at])}, ` +
    `found ${JSON.stringify(onDisk[at])}; run \`node schemas/codegen.ts\``);
});

test('codegen --check exits 0 on the committed file', () => {
  const result = spawnSync(process.execPath, [join(import.meta.dirname, 'codegen.ts'), '--check'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
});
