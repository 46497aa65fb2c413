// Configuration files (plant profiles, customer mappings): JSON whose shape a JSON Schema holds
// (checked with ajv, so editors can complete and check them through `$schema`), plus the checks a
// schema cannot say. Every problem is named at once, so a user fixes a file in one pass.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';

export interface JsonConfigKind<T> {
  /** The JSON Schema file. */
  schema: URL;
  /** What the schema cannot say, on a value of the right shape; empty when it is fine. */
  semanticProblems(value: T): string[];
  /** The error naming every problem of the file called `name`. */
  error(name: string, problems: string[]): Error;
  /** How to call the file in errors once it is known to be an object (e.g. with its plant id). */
  label?(raw: object, name: string): string;
  /** What an error at the top of the document is called: '(profile)', '(mapping)'. */
  root: string;
}

export interface JsonConfig<T> {
  /** Checks a parsed value; throws the kind's error naming every problem. */
  parse(raw: unknown, name: string): T;
  /** Reads and checks a file. */
  load(file: string): T;
}

export function jsonConfig<T>(kind: JsonConfigKind<T>): JsonConfig<T> {
  // allErrors: a config file is small and read once; a user wants every problem in one pass.
  const validate = new Ajv({ allErrors: true }).compile<T>(JSON.parse(readFileSync(kind.schema, 'utf8')) as object);
  const describe = (e: ErrorObject): string => {
    const where = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : kind.root;
    if (e.keyword === 'additionalProperties') return `${where}: unknown field ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
    if (e.keyword === 'enum') return `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    return `${where} ${e.message}`;
  };
  const parse = (raw: unknown, name: string): T => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw kind.error(name, ['must be a JSON object']);
    const label = kind.label?.(raw, name) ?? name;
    if (!validate(raw)) throw kind.error(label, (validate.errors ?? []).map(describe));
    const problems = kind.semanticProblems(raw);
    if (problems.length) throw kind.error(label, problems);
    return raw;
  };
  return {
    parse,
    load(file) {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw kind.error(basename(file), [`cannot read it as JSON: ${(err as Error).message}`]);
      }
      return parse(raw, basename(file));
    },
  };
}
