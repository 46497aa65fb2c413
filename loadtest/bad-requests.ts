// Malformed requests to POST /v1/score, of many kinds, from a seed: what a broken client, a fuzzer
// or an attacker sends. Shared by the fuzz test (streams/maintenance/scoring-api.test.ts) and the
// bad-request storm benchmark (loadtest/api-bad-requests.ts). Every one of them must get a 4xx.
import { Agent, request } from 'node:http';
import { seededRandom } from '../streams/runtime/random.ts';

export interface RawRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
  /** Send the body chunked (no content-length). */
  chunked?: boolean;
}

const SENSOR_UNITS = [['VIBRATION', 'mm/s'], ['TEMPERATURE', 'degC'], ['PRESSURE', 'bar']] as const;
/** Numbers as JSON text, including some JSON.parse turns into Infinity or rounds: none is a valid event time. */
const EXTREME_LITERALS = ['0', '-0', '1.7976931348623157e308', '-1.7976931348623157e308', '5e-324', '1e400', '-1e400', '8640000000000000', '8640000000000001', '9007199254740992', '-1', '1.5', '123456789012345678901234567890', `1${'0'.repeat(5000)}`, '1e-400'];
/** Those of them that are no valid vibration value (0 .. 200 mm/s) either. */
const EXTREME_VALUES = EXTREME_LITERALS.filter((x) => !(Number(x) >= 0 && Number(x) <= 200));
/** Never valid where a string (arm id, sensor, unit) or a number is expected. */
const WRONG_TYPES = ['null', 'true', '{}', '[]', '[1,2]', '{"$gt": 0}', '""'];

function readingsJson(n: number, now: number, over: (i: number) => Partial<Record<string, string>> = () => ({})): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const [sensor, unit] = SENSOR_UNITS[i % 3];
    const fields: Record<string, string> = { sensor: `"${sensor}"`, value: String(1 + (i % 7) / 10), unit: `"${unit}"`, event_time: String(now - 3_600_000 + Math.floor(i / 3) * 60_000), ...over(i) };
    parts.push(`{${Object.entries(fields).map(([k, v]) => `"${k}":${v}`).join(',')}}`);
  }
  return `[${parts.join(',')}]`;
}

/** `count` malformed requests (deterministic for a seed); `token` authenticates the ones meant to pass auth. */
export function badRequests(o: { seed: number; count: number; token: string | null; now?: number; maxBodyBytes?: number }): RawRequest[] {
  const random = seededRandom(o.seed);
  const now = o.now ?? Date.now();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const auth: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};
  const json = (kind: string, body: string | Buffer, extra: Record<string, string> = {}): RawRequest => ({ kind, method: 'POST', path: '/v1/score', headers: { 'content-type': 'application/json', ...auth, ...extra }, body });
  const valid = () => `{"arm_id":"arm-${int(0, 999)}","readings":${readingsJson(int(3, 60), now)}}`;
  const field = () => pick(['value', 'event_time', 'sensor', 'unit']);
  const kinds: (() => RawRequest)[] = [
    () => { const v = valid(); return json('truncated', v.slice(0, int(0, v.length - 1))); },
    () => {
      const bytes = Buffer.from(valid());
      // Characters valid nowhere in this document (no escapes, no digits): the result is never a valid request.
      for (let k = int(1, 5); k > 0; k--) bytes[int(0, bytes.length - 1)] = pick([0x23, 0x7e, 0x60, 0x7c]);
      return json('byte-flip', bytes);
    },
    () => json('extreme-event_time', `{"arm_id":"arm-1","readings":${readingsJson(9, now, (i) => (i === 4 ? { event_time: pick(EXTREME_LITERALS) } : {}))}}`),
    // Reading 3 is a vibration (readings cycle VIBRATION, TEMPERATURE, PRESSURE).
    () => json('extreme-value', `{"arm_id":"arm-1","readings":${readingsJson(9, now, (i) => (i === 3 ? { value: pick(EXTREME_VALUES) } : {}))}}`),
    () => { const f = field(); return json(`wrong-type-${f}`, `{"arm_id":"arm-1","readings":${readingsJson(6, now, (i) => (i === 2 ? { [f]: pick(WRONG_TYPES) } : {}))}}`); },
    () => json('wrong-type-top', pick([`{"arm_id":${pick(WRONG_TYPES)},"readings":${readingsJson(3, now)}}`, `{"arm_id":"a","readings":${pick(WRONG_TYPES)}}`, pick(WRONG_TYPES), '[]', '"readings"'])),
    () => json('huge-array', `{"arm_id":"a","readings":[${'1,'.repeat(int(10_000, 400_000))}1]}`),
    () => { const n = int(100, 300_000); return json('deep-nesting', pick([`${'['.repeat(n)}${']'.repeat(n)}`, `${'{"a":'.repeat(Math.min(n, 80_000))}1${'}'.repeat(Math.min(n, 80_000))}`])); },
    () => json('too-many-readings', `{"arm_id":"a","readings":${readingsJson(int(4_400, 6_000), now)}}`),
    () => json('oversize', 'x'.repeat((o.maxBodyBytes ?? 512 * 1024) + int(1, 1 << 20))),
    () => ({ ...json('oversize-chunked', `[${'1,'.repeat(600_000)}1]`), chunked: true }),
    () => json('semantic-errors', `{"arm_id":"a","readings":${readingsJson(int(100, 4_000), now, () => ({ unit: '"furlongs"' }))}}`),
    () => json('future-and-past', `{"arm_id":"a","readings":${readingsJson(30, now, (i) => ({ event_time: String(i % 2 ? now + int(1, 1e9) * 1000 : int(0, 9.4e11)) }))}}`),
    () => json('extra-properties', pick([`{"arm_id":"a","readings":${readingsJson(3, now)},"__proto__":{"admin":true}}`, `{"arm_id":"a","readings":[{"constructor":{"prototype":{"x":1}},"sensor":"VIBRATION","value":1,"unit":"mm/s","event_time":${now}}]}`, `{"arm_id":"a","arm_id":"b","readings":${readingsJson(3, now)},"x":1}`])),
    () => json('huge-string', `{"arm_id":"${'a'.repeat(int(100, 300_000))}","readings":${readingsJson(3, now)}}`),
    () => json('empty', ''),
    () => json('invalid-utf8', Buffer.concat([Buffer.from('{"arm_id":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(`","readings":${readingsJson(3, now)}}`)])),
    () => json('bad-content-type', valid(), { 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', '']) }),
    () => ({ kind: 'bad-method', method: pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']), path: '/v1/score', headers: auth, body: '' }),
    () => ({ kind: 'bad-path', method: pick(['GET', 'POST']), path: pick(['/', '/v1', '/v1/score/', '/v2/score', '/v1/score/../metrics', `/${'x'.repeat(int(1, 2000))}`, '/%00', '/v1/%E0%A4%A']), headers: auth, body: '' }),
    () => json('bad-auth', valid(), { authorization: pick(['', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Bearer ssk_${'0'.repeat(16)}_${'A'.repeat(43)}`, `Bearer ${'x'.repeat(int(1, 4000))}`, 'Bearer a b c', `Bearer ${(o.token ?? '').slice(0, -1)}B`]) }),
    () => { const r = json('no-auth', valid()); delete r.headers.authorization; return r; },
  ];
  return Array.from({ length: o.count }, (_, i) => kinds[i % kinds.length]());
}

/** Sends one raw request; resolves with the status, or a negative number when the connection failed first. */
export function sendRaw(port: number, r: RawRequest, agent: Agent): Promise<{ status: number; ms: number; error?: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const headers = r.chunked ? r.headers : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) };
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      res.on('error', () => resolve({ status: res.statusCode ?? -2, ms: performance.now() - started }));
    });
    // The server may refuse and close while the body is still being sent: the reply still counts.
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: -1, ms: performance.now() - started, error: `${err.code ?? err.message}${req.reusedSocket ? ' (reused socket)' : ''}` }));
    req.end(r.body);
  });
}
