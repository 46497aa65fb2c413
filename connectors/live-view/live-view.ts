// The live QC view: an HTTP server a line operator keeps open in a browser. It reads QC results
// (and frames) from Kafka (qc-feed.ts), keeps the latest pictures in memory (image-cache.ts), and
// pushes every result and, each second, the rolling stats to the browsers as server-sent events
// (event-stream.ts). The page (page/: plain HTML + JS, no build step) draws the picture on a
// canvas with the boxes, classes and scores on top.
// The picture of a result: its heatmap overlay (heatmap_png) when the processor rendered one; else
// the frame itself, joined by frame_id from vision.frames.v1 in a bounded cache; else none (the
// boxes are drawn on a blank frame). A screen without the frames topic (--no-frames) saves reading
// every frame.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { QcResult } from '../../schemas/generated/types.ts';
import { defaultKeyFilePath } from '../../streams/runtime/http/api-keys.ts';
import { ApiKeyring } from '../../streams/runtime/http/keyring.ts';
import { observabilityRoutes, protectionFromEnv } from '../../streams/runtime/http/observability.ts';
import type { Route } from '../../streams/runtime/http/server.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { EventStream } from './event-stream.ts';
import { ImageCache } from './image-cache.ts';
import { createLiveViewMetrics } from './live-view-metrics.ts';
import { QcFeed } from './qc-feed.ts';
import { RollingStats } from './rolling-stats.ts';

export interface LiveViewOptions {
  port: number;
  host?: string;
  brokers: string[];
  schemaRegistryUrl: string;
  log: Logger;
  /** Read vision.frames.v1 to show frames of results without a heatmap (default true). */
  frames?: boolean;
  frameCacheBytes?: number;
  overlayCacheBytes?: number;
  maxClients?: number;
  /** How long a request for a frame waits for it to arrive from Kafka (default 2 s). */
  frameWaitMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Called with every result shown (the demo counts its own frames' results). */
  onResult?: (event: ResultEvent) => void;
}

export interface LiveView {
  port: number;
  url: string;
  registry: Registry;
  ready(): boolean;
  close(): Promise<void>;
}

/** What a browser gets for one result: the QcResult without its bytes, plus where its picture is. */
export interface ResultEvent extends Omit<QcResult, 'heatmap_png'> {
  image_url: string | null;
  image_kind: 'overlay' | 'frame' | null;
  width: number | null;
  height: number | null;
}

const PAGE_DIR = join(import.meta.dirname, 'page');
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/live-view.js': { file: 'live-view.js', type: 'text/javascript; charset=utf-8' },
  '/live-view.css': { file: 'live-view.css', type: 'text/css; charset=utf-8' },
};
const RECENT = 30;
/** Frame ids remembered to drop results delivered twice (minutes at line speed). */
const SEEN_IDS = 20_000;

export async function startLiveView(o: LiveViewOptions): Promise<LiveView> {
  const env = o.env ?? process.env;
  const withFrames = o.frames ?? true;
  const pages = Object.fromEntries(Object.entries(STATIC).map(([path, s]) => [path, { body: readFileSync(join(PAGE_DIR, s.file)), type: s.type }]));
  const frames = new ImageCache({ maxBytes: o.frameCacheBytes ?? 64 * 1024 * 1024 });
  const overlays = new ImageCache({ maxBytes: o.overlayCacheBytes ?? 64 * 1024 * 1024 });
  const stats = new RollingStats();
  const stream = new EventStream({ maxClients: o.maxClients ?? 32 });
  const metrics = createLiveViewMetrics({ frames, overlays, stream, stats });
  const recent: ResultEvent[] = [];
  const latestPerCamera = new Map<string, ResultEvent>();
  const seen = new Set<string>();

  const feed = await QcFeed.start({
    brokers: o.brokers,
    schemaRegistryUrl: o.schemaRegistryUrl,
    log: o.log,
    frames: withFrames,
    onFrame: (f) => {
      metrics.framesIn.inc();
      frames.put(f.frame_id, { bytes: f.image, contentType: f.encoding === 'PNG' ? 'image/png' : 'image/jpeg', width: f.width, height: f.height });
    },
    onResult: (r) => {
      // At-least-once upstream (vision-qc): a result delivered again has the same frame_id.
      if (seen.has(r.frame_id)) {
        metrics.duplicates.inc();
        return;
      }
      seen.add(r.frame_id);
      if (seen.size > SEEN_IDS) seen.delete(seen.values().next().value!);
      const arrived = Date.now();
      metrics.resultsIn.inc({ verdict: r.verdict });
      stats.add({ camera_id: r.camera_id, verdict: r.verdict, captured_at: r.captured_at, inspected_at: r.inspected_at, arrived_at: arrived });
      const { heatmap_png, ...rest } = r;
      const frame = frames.get(r.frame_id);
      let kind: ResultEvent['image_kind'] = null;
      if (heatmap_png && heatmap_png.length > 0) {
        overlays.put(r.frame_id, { bytes: heatmap_png, contentType: 'image/png', width: null, height: null });
        kind = 'overlay';
      } else if (withFrames) kind = 'frame';
      const event: ResultEvent = { ...rest, image_kind: kind, image_url: kind ? `/images/${kind}/${encodeURIComponent(r.frame_id)}` : null, width: frame?.width ?? null, height: frame?.height ?? null };
      recent.push(event);
      if (recent.length > RECENT) recent.shift();
      latestPerCamera.set(r.camera_id, event);
      stream.send('result', event);
      o.onResult?.(event);
    },
    onUndecodable: (topic, err) => {
      metrics.undecodable.inc({ topic });
      o.log.warn({ topic, err: err.message }, 'record skipped: it does not decode');
    },
  });
  const statsTimer = setInterval(() => stream.send('stats', stats.snapshot(Date.now()), true), 1_000);
  statsTimer.unref();

  const access = { metrics: protectionFromEnv(env, 'STREAMSCORE_METRICS_AUTH', 'open'), health: protectionFromEnv(env, 'STREAMSCORE_HEALTH_AUTH', 'open') };
  const keyring = access.metrics === 'key' || access.health === 'key' ? new ApiKeyring(defaultKeyFilePath(env), { logger: o.log }) : null;
  const observability = new Map<string, Route>(
    observabilityRoutes({ registry: metrics.registry, isReady: () => feed.ready, access, health: () => ({ clients: stream.size, consumer_group: feed.groupId }) }).map((r) => [r.path, r]),
  );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    } catch {
      return reply(res, 400, 'malformed URL\n', 'text/plain');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'only GET\n', 'text/plain', { allow: 'GET, HEAD' });
    const page = pages[path];
    if (page) {
      return reply(res, 200, page.body, page.type, {
        // The page loads nothing from elsewhere and runs no inline script.
        'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      });
    }
    if (path === '/events') {
      const hello = { event: 'hello', data: { recent, latest: [...latestPerCamera.values()], stats: stats.snapshot(Date.now()), frames: withFrames } };
      if (!stream.attach(req, res, [hello])) reply(res, 503, 'too many live-view clients\n', 'text/plain', { 'retry-after': '5' });
      return;
    }
    const image = /^\/images\/(overlay|frame)\/(.+)$/.exec(path);
    if (image) {
      const cache = image[1] === 'overlay' ? overlays : frames;
      const found = await cache.waitFor(image[2], image[1] === 'frame' ? (o.frameWaitMs ?? 2_000) : 0);
      if (!found) return reply(res, 404, `no ${image[1]} for frame ${image[2]} (not received, or no longer in memory)\n`, 'text/plain');
      return reply(res, 200, found.bytes, found.contentType, { 'cache-control': 'private, max-age=300, immutable' });
    }
    const route = observability.get(path);
    if (route) {
      if (route.access !== 'open' && keyring) {
        const auth = req.headers.authorization;
        const result = keyring.authenticate(auth?.startsWith('Bearer ') ? auth.slice(7).trim() : (req.headers['x-api-key'] as string | undefined), route.access.scope);
        if (!result.ok) return reply(res, result.status, `${result.message}\n`, 'text/plain', { 'www-authenticate': 'Bearer realm="streamscore"' });
      }
      const r = await route.handle({ body: undefined, key: null });
      return reply(res, r.status ?? 200, r.text ?? JSON.stringify(r.json), r.contentType ?? 'application/json');
    }
    reply(res, 404, `no route ${path}; the page is at /\n`, 'text/plain');
  }

  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 }, (req, res) => {
    handle(req, res).catch((err: Error) => {
      o.log.error({ err }, 'live view: internal error while serving a request');
      if (!res.headersSent) reply(res, 500, 'internal error; it has been logged\n', 'text/plain');
      else res.destroy();
    });
  });
  server.maxConnections = 256;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host ?? '127.0.0.1', () => resolve());
    });
  } catch (err) {
    await feed.stop();
    stream.close();
    clearInterval(statsTimer);
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = o.host ?? '127.0.0.1';
  return {
    port,
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}/`,
    registry: metrics.registry,
    ready: () => feed.ready,
    close: async () => {
      clearInterval(statsTimer);
      stream.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await feed.stop();
    },
  };
}

function reply(res: ServerResponse, status: number, body: string | Buffer, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
