// One small HTTP layer for every streamscore API (the scoring API now, the upload API next, the
// processors' /metrics and health): a route table, API keys with scopes, per-key rate limits, a
// bound on requests in flight, streamed and shape-checked JSON bodies, timeouts against slow
// clients, and JSON errors. Every refusal is a 4xx with a message; a handler's own failure is a 500
// that is logged with its stack and answered without it.
//
// Order per request, cheapest first: route (404/405) -> key (401/403) -> rate (429) -> a slot in
// flight (queued, 503 if the queue is full or the wait too long) -> content type (415) -> body
// (413/400) -> handler. After a refusal the rest of an unwanted body is read and dropped up to a
// cap (so the client sees the 4xx), then the connection is cut.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { ApiKeyRecord } from './api-keys.ts';
import { ApiConfigError, HttpError } from './errors.ts';
import { InFlightLimit } from './in-flight.ts';
import { readJsonBody, type JsonLimits } from './json-body.ts';
import type { ApiKeyring } from './keyring.ts';

/** 'open': anyone may call the route; else a key with this scope must be sent. */
export type Access = 'open' | { scope: string };

export interface ApiRequest {
  /** The parsed JSON body (routes with `json` limits), else undefined. */
  body: unknown;
  /** The key that authenticated the request; null on open routes and without auth. */
  key: ApiKeyRecord | null;
  /** The request itself: routes without `json` read their own body (uploads) and headers. Set by the server (absent when a route is called in-process). */
  request?: IncomingMessage;
  /** Path and query string, parsed; set by the server like `request`. */
  url?: URL;
}

export interface Reply {
  status?: number;
  /** Serialized as JSON unless `text` is given. */
  json?: unknown;
  text?: string;
  contentType?: string;
}

export interface Route {
  /** Names the route in metrics and logs. */
  name: string;
  method: 'GET' | 'POST';
  path: string;
  /** Also serve every path below `path` (which then ends in '/'), e.g. '/v1/documents/' for /v1/documents/{id}. */
  prefix?: boolean;
  access: Access;
  /** Routes that take a JSON body say how big and how deep it may be. */
  json?: JsonLimits;
  handle(request: ApiRequest): Reply | Promise<Reply>;
}

export interface HttpApiOptions {
  /** Names the API in logs, e.g. 'scoring-api'. */
  name: string;
  port: number;
  /** Default 127.0.0.1: reachable from this machine only until an operator chooses otherwise. */
  host?: string;
  routes: Route[];
  /**
   * The keys in force. null serves every route without a key; then routes that would need one
   * (access with a scope) may only be served on a loopback host.
   */
  keyring: ApiKeyring | null;
  /** Requests worked on at once (default 32); more wait in a queue (their bodies not yet read). */
  maxInFlight?: number;
  /** Requests that may wait for a slot (default 256) and for how long (default 10 s); beyond: 503. */
  queue?: { maxQueued?: number; maxWaitMs?: number };
  /** Open connections beyond which new ones are dropped (default 512). */
  maxConnections?: number;
  /** Slow clients: headers within `headersMs` (10 s), the whole request within `requestMs` (30 s). */
  timeouts?: { headersMs?: number; requestMs?: number; keepAliveMs?: number };
  logger: Logger;
  /** Where the request metrics go; none if omitted. */
  registry?: Registry;
}

export interface HttpApi {
  port: number;
  host: string;
  inFlight(): number;
  queued(): number;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

export async function startHttpApi(o: HttpApiOptions): Promise<HttpApi> {
  const host = o.host ?? '127.0.0.1';
  const guarded = o.routes.filter((r) => r.access !== 'open').map((r) => r.path);
  if (o.keyring === null && guarded.length > 0 && !isLoopback(host)) throw new ApiConfigError(`${o.name}: refusing to serve ${guarded.join(', ')} without API keys on ${host}`, 'without keys only a loopback host (127.0.0.1, ::1, localhost) is allowed; create a key with `npx streamscore api-keys create`');
  const slots = new InFlightLimit({ max: o.maxInFlight ?? 32, maxQueued: o.queue?.maxQueued ?? 256, maxWaitMs: o.queue?.maxWaitMs ?? 10_000 });
  const byPath = new Map<string, Route[]>();
  for (const r of o.routes) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  const prefixes = o.routes.filter((r) => r.prefix).map((r) => r.path);
  // Exact paths first, then the longest prefix route under which the path lies.
  const routesOf = (path: string) => byPath.get(path) ?? byPath.get(prefixes.filter((p) => path.startsWith(p) && path.length > p.length).sort((a, b) => b.length - a.length)[0] ?? '');
  const metrics = o.registry ? requestMetrics(o.registry) : null;

  async function dispatch(req: IncomingMessage, res: ServerResponse, route: Route | null): Promise<Reply> {
    const path = (req.url ?? '/').split('?')[0];
    const candidates = routesOf(path);
    if (!candidates) throw new HttpError(404, `no route ${path}; routes: ${[...byPath.keys()].join(', ')}`);
    if (!route) throw new HttpError(405, `${req.method} is not allowed on ${path}; use ${candidates.map((c) => c.method).join(', ')}`, { headers: { allow: candidates.map((c) => c.method).join(', ') } });
    let key: ApiKeyRecord | null = null;
    if (route.access !== 'open' && o.keyring) {
      const result = o.keyring.authenticate(presentedKey(req), route.access.scope);
      if (!result.ok) {
        const challenge = `Bearer realm="streamscore"${result.error === 'invalid_request' ? '' : `, error="${result.error}"`}${result.status === 403 ? `, scope="${route.access.scope}"` : ''}`;
        throw new HttpError(result.status, result.message, { headers: { 'www-authenticate': challenge } });
      }
      key = result.key;
      const wait = o.keyring.takeRateToken(key);
      if (wait > 0) throw new HttpError(429, `API key ${key.id} is over its rate limit; retry in ${wait} s`, { headers: { 'retry-after': String(wait) } });
    }
    const granted = await slots.acquire((cancel) => res.once('close', cancel));
    if (!granted) throw new HttpError(503, `${o.name} is busy (${slots.inFlight} requests in flight, ${slots.queued} waiting); retry shortly`, { headers: { 'retry-after': '1' } });
    if (req.socket.destroyed) {
      // Gone before its 'close' could be watched: no close event will come to give the slot back.
      slots.release();
      throw new HttpError(400, 'the client closed the connection');
    }
    metrics?.inFlight.inc();
    res.once('close', () => {
      slots.release();
      metrics?.inFlight.dec();
    });
    let body: unknown;
    if (route.json) {
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i.test(type)) throw new HttpError(415, `content-type must be application/json (UTF-8), got ${JSON.stringify(type.slice(0, 100))}`);
      body = await readJsonBody(req, route.json);
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://api.invalid');
    } catch {
      throw new HttpError(400, `request target ${JSON.stringify((req.url ?? '').slice(0, 100))} is not a URL path`);
    }
    return route.handle({ body, key, request: req, url });
  }

  const server: Server = createServer({ connectionsCheckingInterval: 1000, requestTimeout: o.timeouts?.requestMs ?? 30_000, headersTimeout: o.timeouts?.headersMs ?? 10_000, keepAliveTimeout: o.timeouts?.keepAliveMs ?? 5_000 }, (req, res) => {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0];
    const route = routesOf(path)?.find((r) => r.method === req.method) ?? null;
    const routeName = route?.name ?? 'unmatched';
    dispatch(req, res, route).then(
      (reply) => send(req, res, reply.status ?? 200, reply.text ?? JSON.stringify(reply.json), reply.contentType ?? 'application/json', {}),
      (err: unknown) => {
        if (err instanceof HttpError) {
          const e = err;
          const level = e.status === 401 || e.status === 403 || e.status === 429 ? 'info' : 'debug';
          o.logger[level]({ api: o.name, route: routeName, status: e.status, reason: e.message, remote: req.socket?.remoteAddress }, 'request refused');
          send(req, res, e.status, JSON.stringify({ error: e.message, details: e.details }), 'application/json', e.headers);
        } else {
          o.logger.error({ api: o.name, route: routeName, err }, 'internal error while serving a request');
          send(req, res, 500, JSON.stringify({ error: 'internal error; it has been logged', details: [] }), 'application/json', {});
        }
      },
    ).finally(() => {
      metrics?.duration.observe({ route: routeName, status: res.headersSent ? String(res.statusCode) : 'aborted' }, Number(process.hrtime.bigint() - started) / 1e9);
    });
  });
  server.maxConnections = o.maxConnections ?? 512;
  // Unparseable requests, over-long headers and timed-out requests get Node's own 400/431/408
  // (its default clientError handling), never a 5xx.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    host,
    inFlight: () => slots.inFlight,
    queued: () => slots.queued,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/** `Authorization: Bearer <key>`, else `X-API-Key: <key>`; undefined when neither is sent. */
function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    return m ? m[1] : '';
  }
  const header = req.headers['x-api-key'];
  return typeof header === 'string' ? header : undefined;
}

/**
 * After a refusal, what the client is still sending is read and dropped up to this many bytes (and
 * for this long), then the connection is cut. Closing a socket with unread bytes makes the kernel
 * answer with a reset, which can destroy the 4xx before the client reads it; a client a little
 * over a limit gets its 413, one sending gigabytes is cut off after the cap.
 */
const LINGER_BYTES = 8 * 1024 * 1024;
const LINGER_MS = 2_000;

function send(req: IncomingMessage, res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string>): void {
  if (res.headersSent) return;
  const declared = Number(req.headers['content-length'] ?? 0);
  const unreadBody = !req.readableEnded && (declared > 0 || req.headers['transfer-encoding'] !== undefined);
  const hopeless = unreadBody && declared > LINGER_BYTES;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(hopeless ? { connection: 'close' } : {}),
    ...headers,
  });
  if (unreadBody && !hopeless) res.once('finish', () => drainOrCut(req));
  res.end(body);
}

function drainOrCut(req: IncomingMessage): void {
  let left = LINGER_BYTES;
  // Only while this request's body is still coming: once it has ended, the socket may be serving the next request.
  const cut = () => {
    if (!req.readableEnded) req.socket.destroy();
  };
  const timer = setTimeout(cut, LINGER_MS).unref();
  req.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) {
      clearTimeout(timer);
      cut();
    }
  });
  req.once('end', () => clearTimeout(timer));
  req.once('error', () => clearTimeout(timer));
  req.resume();
}

function requestMetrics(registry: Registry) {
  return {
    duration: new Histogram({ name: 'streamscore_api_request_duration_seconds', help: 'API request duration by route and status', labelNames: ['route', 'status'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] }),
    inFlight: new Gauge({ name: 'streamscore_api_requests_in_flight', help: 'API requests being served', registers: [registry] }),
  };
}
