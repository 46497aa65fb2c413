// Personal data in logs. A field of an .avsc file marked `"personal": true` (customer ids, names,
// documents: see the marks in schemas/) holds personal data, and logs never print its values;
// Kafka topics, the DLQ and the lake keep them, because that is the data's job.
//
//   const personal = personalData(loadSchema(TOPICS.billingEvents.schema));
//   log.info({ event: personal.redact(decoded) }, ...);            // fields replaced by '[personal]'
//   log.warn({ err: personal.scrub(error.message, decoded) }, ...); // their values cut out of any text
//
// `scrub` is for messages that may quote a record (validators, avsc's "invalid field(s) user_id=..."):
// it removes every value of the record's personal fields, also JSON-escaped and also when quoted
// only in part (a message that cut a long value short), so a quote never needs to be complete to go.
// A record that could not be decoded has no values to look for: pass null and keep such messages
// free of payload (the runtime's decode errors are). Marks on a nested record's fields apply inside
// arrays and maps; a marked record, array or map is personal as a whole.

/** The attribute that marks a field, and what replaces a personal value in logs. */
export const PERSONAL_ATTRIBUTE = 'personal';
export const REDACTED = '[personal]';

/** Quotes cut to this many characters are still recognised as a personal value. */
const MIN_PARTIAL_QUOTE = 8;

type Mark =
  | { kind: 'personal' }
  | { kind: 'record'; fields: Map<string, Mark> }
  | { kind: 'array'; items: Mark }
  | { kind: 'map'; values: Mark };

type SchemaNode = string | SchemaNode[] | { type?: unknown; name?: string; namespace?: string; fields?: { name: string; type: unknown; [k: string]: unknown }[]; items?: unknown; values?: unknown };

export interface PersonalData {
  /** Marked fields as paths: `user_id`, `entities[].text`, `labels{}.owner`. */
  readonly paths: readonly string[];
  /** A copy of a decoded value whose personal fields (when set) read '[personal]'. */
  redact<T>(value: T): T;
  /** `text` without any value of `value`'s personal fields; `value` null or undefined leaves it as it is. */
  scrub(text: string, value: unknown): string;
}

/** Reads the personal marks of one or more schemas of the same records (e.g. this repo's .avsc and the registered version) and unites them. */
export function personalData(...schemas: object[]): PersonalData {
  const marks = schemas.map((s) => markOf(s as SchemaNode, new Map())).filter((m): m is Mark => m !== null);
  const mark = marks.reduce<Mark | null>((a, b) => (a ? unite(a, b) : b), null);
  const paths = mark ? pathsOf(mark, '') : [];
  return {
    paths,
    redact: <T>(value: T): T => (mark ? (redactWith(mark, value) as T) : value),
    scrub: (text, value) => (mark && value != null ? scrubValues(text, collect(mark, value, [])) : text),
  };
}

/** The mark tree of a type: null when nothing inside it is personal. */
/** `named` resolves references to named types; `visiting` holds the records being read (recursive types). */
function markOf(node: SchemaNode, named: Map<string, SchemaNode>, visiting = new Set<SchemaNode>()): Mark | null {
  // A reference to a named type; one to a record still being read (a recursive type) adds nothing new.
  if (typeof node === 'string') return named.has(node) && !visiting.has(named.get(node)!) ? markOf(named.get(node)!, named, visiting) : null;
  if (Array.isArray(node)) {
    const branches = node.map((b) => markOf(b, named, visiting)).filter((m): m is Mark => m !== null);
    return branches.reduce<Mark | null>((a, b) => (a ? unite(a, b) : b), null);
  }
  if (typeof node.type === 'object' && node.type !== null) return markOf(node.type as SchemaNode, named, visiting);
  if (node.type === 'record' && node.name) {
    named.set(node.name, node);
    if (node.namespace) named.set(`${node.namespace}.${node.name}`, node);
  }
  if (node.type === 'record') {
    const fields = new Map<string, Mark>();
    visiting.add(node);
    for (const f of node.fields ?? []) {
      const m = f[PERSONAL_ATTRIBUTE] === true ? ({ kind: 'personal' } as const) : markOf(f.type as SchemaNode, named, visiting);
      if (m) fields.set(f.name, m);
    }
    visiting.delete(node);
    return fields.size ? { kind: 'record', fields } : null;
  }
  if (node.type === 'array') {
    const items = markOf(node.items as SchemaNode, named, visiting);
    return items && { kind: 'array', items };
  }
  if (node.type === 'map') {
    const values = markOf(node.values as SchemaNode, named, visiting);
    return values && { kind: 'map', values };
  }
  return null;
}

function unite(a: Mark, b: Mark): Mark {
  if (a.kind === 'personal' || b.kind === 'personal') return { kind: 'personal' };
  if (a.kind === 'record' && b.kind === 'record') {
    const fields = new Map(a.fields);
    for (const [name, m] of b.fields) fields.set(name, fields.has(name) ? unite(fields.get(name)!, m) : m);
    return { kind: 'record', fields };
  }
  if (a.kind === 'array' && b.kind === 'array') return { kind: 'array', items: unite(a.items, b.items) };
  if (a.kind === 'map' && b.kind === 'map') return { kind: 'map', values: unite(a.values, b.values) };
  return { kind: 'personal' }; // two versions disagree on the shape: treat the whole field as personal
}

function pathsOf(m: Mark, at: string): string[] {
  switch (m.kind) {
    case 'personal':
      return [at];
    case 'record':
      return [...m.fields].flatMap(([name, inner]) => pathsOf(inner, at ? `${at}.${name}` : name));
    case 'array':
      return pathsOf(m.items, `${at}[]`);
    case 'map':
      return pathsOf(m.values, `${at}{}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

function redactWith(m: Mark, value: unknown): unknown {
  if (value == null) return value;
  switch (m.kind) {
    case 'personal':
      return REDACTED;
    case 'record':
      if (!isObject(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, m.fields.has(k) ? redactWith(m.fields.get(k)!, v) : v]));
    case 'array':
      return Array.isArray(value) ? value.map((v) => redactWith(m.items, v)) : value;
    case 'map':
      return isObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactWith(m.values, v)])) : value;
  }
}

/** The texts a personal value can appear as: strings and numbers, inside any structure (bytes are not quoted in messages). */
function collect(m: Mark, value: unknown, out: string[]): string[] {
  if (value == null) return out;
  if (m.kind === 'personal') {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') out.push(String(value));
    else if (Array.isArray(value)) value.forEach((v) => collect(m, v, out));
    else if (isObject(value)) Object.values(value).forEach((v) => collect(m, v, out));
    return out;
  }
  if (m.kind === 'record' && isObject(value)) for (const [name, inner] of m.fields) collect(inner, value[name], out);
  if (m.kind === 'array' && Array.isArray(value)) value.forEach((v) => collect(m.items, v, out));
  if (m.kind === 'map' && isObject(value)) Object.values(value).forEach((v) => collect(m.values, v, out));
  return out;
}

function scrubValues(text: string, values: string[]): string {
  // Each value as written and as JSON escapes it (a message that quotes with JSON.stringify).
  const forms = [...new Set(values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of forms) {
    if (form.length <= MIN_PARTIAL_QUOTE) {
      out = out.split(form).join(REDACTED);
      continue;
    }
    // A quote of at least MIN_PARTIAL_QUOTE leading characters counts: messages cut long values short.
    const head = form.slice(0, MIN_PARTIAL_QUOTE);
    let result = '';
    let from = 0;
    for (let at = out.indexOf(head, from); at >= 0; at = out.indexOf(head, from)) {
      let end = at + MIN_PARTIAL_QUOTE;
      while (end < out.length && end - at < form.length && out[end] === form[end - at]) end++;
      result += out.slice(from, at) + REDACTED;
      from = end;
    }
    out = result + out.slice(from);
  }
  return out;
}
