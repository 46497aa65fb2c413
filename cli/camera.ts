// `streamscore camera simulate | folder DIR`: inspection cameras producing CameraFrames to
// vision.frames.v1 in real time (connectors/camera/).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { runCameras, type CamerasOptions } from '../connectors/camera/cameras.ts';
import { DeepPcbLine, FolderSequence } from '../connectors/camera/frame-sources.ts';
import { FrameSender } from '../connectors/camera/frame-sender.ts';
import { CameraSourceError, findDeepPcbImages, listSequence } from '../connectors/camera/image-files.ts';
import { DEFAULT_JITTER, NO_JITTER } from '../connectors/camera/line-jitter.ts';
import { OptionError, parseDuration, parseNumber } from '../connectors/options.ts';
import { brokerList } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { serviceEnv } from './env.ts';

export const DEFAULT_DEEPPCB_DIR = resolve(REPO_ROOT, '..', 'shared', 'data', 'deeppcb');

const USAGE = `usage: streamscore camera simulate [--fps 30] [--cameras 2] [--data DIR] [--defect-rate 0.1] [--duration 60s] [options]
       streamscore camera folder DIR [--fps 10] [--loop] [--camera-id cam-01] [options]

  simulate          a PCB line: DeepPCB boards (*_temp.jpg good, *_test.jpg defective, found anywhere
                    under --data; default ${DEFAULT_DEEPPCB_DIR}) with the line's
                    lighting drift, position shifts of a few pixels and sensor noise, re-encoded as JPEG
    --fps N           frames per second per camera (default 30)
    --cameras N       cameras on the line, staggered evenly (default 2; ids cam-01, cam-02, ...)
    --defect-rate R   share of defective boards, 0..1 (default 0.1)
    --seed N          the same seed replays the same boards with the same jitter (default 1)
    --no-jitter       send the boards as they are (still re-encoded)
    --quality Q       JPEG quality (default 90)
  folder DIR        the image files of DIR in natural order (frame2 before frame10) as one camera:
                    JPEG and PNG sent as they are, other formats (webp, tiff, gif, avif) as PNG
    --fps N           (default 10)
    --loop            start again after the last file (default: stop there)
    --camera-id ID    (default cam-01)

options:
  --duration D        stop after D (e.g. 30s, 10m; default: until Ctrl-C, or the folder's end)
  --line-id ID        production line of the frames (default line-01)
  --metrics-port N    serve /metrics, /healthz, /readyz on this port (default METRICS_PORT, else any free port)
  --progress-every D  a progress line with the achieved FPS per camera every D (default 5s)
  SIGINT/SIGTERM stop the cameras, send what is queued and print a summary (JSON) on stdout.
`;

export async function run(args: string[]): Promise<number> {
  const [mode, ...rest] = args;
  if (mode === undefined || mode === '--help' || mode === '-h' || mode === 'help') {
    process.stdout.write(USAGE);
    return mode === undefined ? 2 : 0;
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    if (mode !== 'simulate' && mode !== 'folder') throw new OptionError(`say simulate or folder, not ${JSON.stringify(mode)}`);
    const { values: v, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        fps: { type: 'string' },
        cameras: { type: 'string' },
        data: { type: 'string' },
        'defect-rate': { type: 'string' },
        seed: { type: 'string' },
        'no-jitter': { type: 'boolean' },
        quality: { type: 'string' },
        loop: { type: 'boolean' },
        'camera-id': { type: 'string' },
        duration: { type: 'string' },
        'line-id': { type: 'string' },
        'metrics-port': { type: 'string' },
        'progress-every': { type: 'string' },
      },
    });
    const only = (m: string, names: string[]) => {
      const wrong = names.filter((k) => v[k as keyof typeof v] !== undefined);
      if (wrong.length) throw new OptionError(`${wrong.map((k) => `--${k}`).join(', ')}: only for camera ${m}`);
    };
    const env = serviceEnv();
    const log = createLogger({ component: 'camera' });
    const metricsPortRaw = v['metrics-port'] ?? env.METRICS_PORT ?? '0';
    const common = {
      lineId: v['line-id'] ?? 'line-01',
      durationMs: v.duration ? parseDuration('duration', v.duration) : Infinity,
      brokers: brokerList(env.KAFKA_BROKERS ?? ''),
      schemaRegistryUrl: env.SCHEMA_REGISTRY_URL ?? '',
      log,
      signal: abort.signal,
      metricsPort: parseNumber('metrics-port', metricsPortRaw, { integer: true, min: 0 }),
      metricsHost: env.METRICS_HOST,
      progress: (line: string) => process.stderr.write(`${line}\n`),
      progressEveryMs: v['progress-every'] ? parseDuration('progress-every', v['progress-every']) : 5_000,
      onListening: (port: number) => process.stderr.write(`camera: metrics on http://${env.METRICS_HOST ?? '127.0.0.1'}:${port}/metrics (also /healthz, /readyz)\n`),
    };
    if (common.progressEveryMs < 100) throw new OptionError('--progress-every must be at least 100ms');
    let options: CamerasOptions;
    if (mode === 'simulate') {
      only('folder', ['loop', 'camera-id']);
      if (positionals.length) throw new OptionError(`simulate takes no positional arguments (got ${positionals.join(' ')}); the images come from --data DIR`);
      const cameras = parseNumber('cameras', v.cameras ?? '2', { integer: true, min: 1 });
      if (cameras > 64) throw new OptionError('--cameras: at most 64');
      const defectRate = parseNumber('defect-rate', v['defect-rate'] ?? '0.1', { min: 0 });
      if (defectRate > 1) throw new OptionError(`--defect-rate ${defectRate} must be between 0 and 1`);
      const quality = parseNumber('quality', v.quality ?? '90', { integer: true, min: 1 });
      if (quality > 100) throw new OptionError('--quality must be 1..100');
      const dir = resolve(v.data ?? DEFAULT_DEEPPCB_DIR);
      const images = findDeepPcbImages(dir);
      const source = new DeepPcbLine(images, { cameras, defectRate, seed: parseNumber('seed', v.seed ?? '1', { integer: true }), jitter: v['no-jitter'] ? NO_JITTER : DEFAULT_JITTER, jpegQuality: quality });
      const cameraIds = Array.from({ length: cameras }, (_, i) => `cam-${String(i + 1).padStart(2, '0')}`);
      options = { ...common, source, cameraIds, fps: parseNumber('fps', v.fps ?? '30', { min: 0.01 }), whenBehind: 'drop' };
      process.stderr.write(`camera: ${cameras} camera(s) on ${common.lineId} at ${options.fps} fps each, ${images.pass.length} good + ${images.defect.length} defective boards from ${dir}, defect rate ${defectRate}\n`);
    } else {
      only('simulate', ['cameras', 'data', 'defect-rate', 'seed', 'no-jitter', 'quality']);
      if (positionals.length !== 1) throw new OptionError('folder takes one DIR');
      const files = listSequence(resolve(positionals[0]));
      const source = new FolderSequence({ files, loop: v.loop ?? false, maxImageBytes: FrameSender.maxImageBytes() });
      options = { ...common, source, cameraIds: [v['camera-id'] ?? 'cam-01'], fps: parseNumber('fps', v.fps ?? '10', { min: 0.01 }), whenBehind: 'wait' };
      process.stderr.write(`camera: ${files.length} image file(s) from ${positionals[0]} as ${options.cameraIds[0]} at ${options.fps} fps${v.loop ? ', looping' : ''}\n`);
    }
    if (options.fps > 1000) throw new OptionError('--fps: at most 1000');
    const summary = await runCameras(options);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof OptionError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`streamscore camera: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof CameraSourceError) {
      process.stderr.write(`streamscore camera: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
