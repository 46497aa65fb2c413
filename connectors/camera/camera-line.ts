// Runs cameras in real time: camera c of N triggers at t0 + (k + c/N) / fps (evenly staggered, as
// cameras on one line are), takes its picture from a FrameSource, and offers the CameraFrame to
// the sender. Triggers are kept on the wall clock, not chained on the previous frame, so the rate
// does not drift when an encode or a send is slow.
// Two ways to be behind, chosen by the caller:
//   - 'drop' (a live line): a trigger the process missed by more than a frame period is lost, and
//     so is one that finds `maxInFlight` captures still running (a camera with a full buffer);
//     both are counted as dropped (late / busy). The achieved FPS says so.
//   - 'wait' (a recorded sequence): every picture is sent; when behind, the schedule slips.
import type { CameraFrame } from '../../schemas/generated/types.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import type { CameraMetrics, DropReason } from './camera-metrics.ts';
import { UnusableImageError, type CapturedImage, type FrameSource } from './frame-sources.ts';

export interface FrameOutlet {
  /** false: the frame was not taken (queue full). */
  offer(frame: CameraFrame, headers?: Record<string, string>): boolean;
}

export interface CameraLineOptions {
  source: FrameSource;
  cameraIds: string[];
  lineId: string;
  fps: number;
  /** Wall time to run; Infinity until the source ends or `signal` aborts. */
  durationMs: number;
  whenBehind: 'drop' | 'wait';
  outlet: FrameOutlet;
  metrics: CameraMetrics;
  log: Logger;
  signal: AbortSignal;
  /** Captures running at once (default 2 per camera, at least 4). */
  maxInFlight?: number;
  /** Part of every frame id, so ids stay unique across runs (default: start time, base 36). */
  runId?: string;
}

export interface CameraStats {
  camera_id: string;
  captured: number;
  dropped: Partial<Record<DropReason, number>>;
}

export interface CameraLineResult {
  seconds: number;
  cameras: CameraStats[];
  /** Why the run ended. */
  ended: 'duration' | 'source-ended' | 'stopped';
}

const UNUSABLE_LOG_LIMIT = 20;

export async function runCameraLine(o: CameraLineOptions): Promise<CameraLineResult> {
  if (!(o.fps > 0 && o.fps <= 1000)) throw new RangeError(`fps must be in (0, 1000], got ${o.fps}`);
  const n = o.cameraIds.length;
  if (n === 0) throw new RangeError('no cameras');
  const period = 1000 / o.fps;
  const maxInFlight = o.maxInFlight ?? Math.max(4, 2 * n);
  const runId = o.runId ?? Date.now().toString(36);
  const stats: CameraStats[] = o.cameraIds.map((camera_id) => ({ camera_id, captured: 0, dropped: {} }));
  const taken = new Array<number>(n).fill(0);
  const ended = new Array<boolean>(n).fill(false);
  const inFlight = new Set<Promise<void>>();
  let unusable = 0;
  let failure: Error | null = null;

  const drop = (c: number, reason: DropReason) => {
    stats[c].dropped[reason] = (stats[c].dropped[reason] ?? 0) + 1;
    o.metrics.dropped.inc({ camera: o.cameraIds[c], reason });
  };

  const shoot = async (c: number, index: number, capturedAt: number): Promise<void> => {
    const started = performance.now();
    let picture: CapturedImage | null;
    try {
      picture = await o.source.capture(c, index);
    } catch (err) {
      if (!(err instanceof UnusableImageError)) throw err;
      drop(c, 'unusable');
      if (++unusable <= UNUSABLE_LOG_LIMIT) o.log.warn({ camera: o.cameraIds[c], file: err.path, reason: err.message }, 'picture skipped');
      return;
    }
    o.metrics.captureDuration.observe((performance.now() - started) / 1000);
    if (picture === null) {
      ended[c] = true;
      return;
    }
    const frame: CameraFrame = {
      frame_id: `${o.cameraIds[c]}-${runId}-${String(index).padStart(7, '0')}`,
      camera_id: o.cameraIds[c],
      line_id: o.lineId,
      captured_at: capturedAt,
      width: picture.width,
      height: picture.height,
      encoding: picture.encoding,
      image: picture.image,
      template_id: picture.templateId,
    };
    // Where the picture came from (and, for a simulated line, what the board really is), for
    // evaluation and the load test; the processor does not read these.
    const headers: Record<string, string> = { 'streamscore-frame-source': picture.source.slice(-200) };
    if (picture.truth) headers['streamscore-simulated-truth'] = picture.truth;
    stats[c].captured++;
    o.metrics.captured.inc({ camera: o.cameraIds[c] });
    if (!o.outlet.offer(frame, headers)) drop(c, 'queue-full');
  };

  const t0 = performance.now() + 5;
  const wallStart = Date.now();
  let slip = 0;
  let why: CameraLineResult['ended'] = 'duration';
  for (let i = 0; ; i++) {
    const c = i % n;
    const due = t0 + slip + (Math.floor(i / n) + c / n) * period;
    if (due - t0 >= o.durationMs) break;
    if (ended.every(Boolean)) {
      why = 'source-ended';
      break;
    }
    if (ended[c]) continue;
    if (o.whenBehind === 'wait') {
      while (inFlight.size >= maxInFlight && failure === null) await Promise.race(inFlight);
    }
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait, o.signal);
    if (o.signal.aborted) {
      why = 'stopped';
      break;
    }
    if (failure) break;
    const late = performance.now() - due;
    if (late > period) {
      if (o.whenBehind === 'drop') {
        drop(c, 'late');
        continue;
      }
      slip += late;
    }
    if (inFlight.size >= maxInFlight) {
      drop(c, 'busy');
      continue;
    }
    const p: Promise<void> = shoot(c, taken[c]++, Date.now())
      .catch((err: Error) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  return { seconds: (Date.now() - wallStart) / 1000, cameras: stats, ended: why };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
