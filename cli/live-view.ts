// `streamscore vision live [--port 8096]`: the live QC view (connectors/live-view/) until Ctrl-C.
import { parseArgs } from 'node:util';
import { startLiveView } from '../connectors/live-view/live-view.ts';
import { OptionError, parseNumber } from '../connectors/options.ts';
import { isLoopback } from '../streams/runtime/http/server.ts';
import { brokerList } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { serviceEnv } from './env.ts';

export const LIVE_USAGE = `usage: streamscore vision live [--port 8096] [--host 127.0.0.1] [--no-frames] [--cache-mb 64]

  A web page for the line: the latest frame of every camera with its Grad-CAM overlay, defect
  boxes with class and score, verdicts, the defect rate over the last minute, frames inspected per
  second and capture -> verdict latency, pushed to the browser as server-sent events. Reads
  vision.qc-results.v1 (and vision.frames.v1, for results without a heatmap) from the latest
  offsets with its own consumer group; GET /metrics, /healthz, /readyz on the same port.

  --port N        (default 8096, or LIVE_VIEW_PORT; 8090 is the Spark master UI's)
  --host H        listen address (default 127.0.0.1); 0.0.0.0 shows the page to the network,
                  without a key: only on a network the line trusts
  --no-frames     do not read vision.frames.v1 (results without a heatmap show boxes on a blank)
  --cache-mb N    memory for frames and for overlays, each (default 64)
`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(LIVE_USAGE);
    return 0;
  }
  let port: number;
  let cacheMb: number;
  let host: string;
  let frames: boolean;
  try {
    const { values: v } = parseArgs({ args, strict: true, options: { port: { type: 'string' }, host: { type: 'string' }, 'no-frames': { type: 'boolean' }, 'cache-mb': { type: 'string' } } });
    port = parseNumber('port', v.port ?? process.env.LIVE_VIEW_PORT ?? '8096', { integer: true, min: 0 });
    if (port > 65535) throw new OptionError(`--port ${port} is not a port number`);
    cacheMb = parseNumber('cache-mb', v['cache-mb'] ?? '64', { min: 1 });
    host = v.host ?? '127.0.0.1';
    frames = !v['no-frames'];
  } catch (err) {
    process.stderr.write(`streamscore vision live: ${(err as Error).message}\n\n${LIVE_USAGE}`);
    return 2;
  }
  const env = serviceEnv();
  const log = createLogger({ component: 'live-view' });
  const view = await startLiveView({
    port,
    host,
    brokers: brokerList(env.KAFKA_BROKERS ?? ''),
    schemaRegistryUrl: env.SCHEMA_REGISTRY_URL ?? '',
    log,
    frames,
    frameCacheBytes: cacheMb * 1024 * 1024,
    overlayCacheBytes: cacheMb * 1024 * 1024,
  }).catch((err: Error & { code?: string }) => {
    if (err.code === 'EADDRINUSE') throw new Error(`port ${port} on ${host} is in use; choose another with --port`);
    throw err;
  });
  if (!isLoopback(host)) log.warn({ host }, 'the live view is open to the network on this address (no key: browsers cannot send one with server-sent events)');
  process.stderr.write(`live QC view: ${view.url}  (metrics ${view.url}metrics, health ${view.url}healthz)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await view.close();
  return 0;
}
