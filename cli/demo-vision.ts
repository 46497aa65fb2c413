// The VisionSpec part of `npm run demo`: the vision-qc processor (PCB QC CNN + Grad-CAM on the
// worker pool), the live QC view, and two simulated cameras replaying DeepPCB boards for a few
// seconds; then what came out (results, dead letters, the verdicts the live view counted) and the URL
// of the live view. With --follow the cameras go on, slower, until Ctrl-C.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { runCameras, type CameraSummary } from '../connectors/camera/cameras.ts';
import { DeepPcbLine } from '../connectors/camera/frame-sources.ts';
import { findDeepPcbImages } from '../connectors/camera/image-files.ts';
import { startLiveView, type LiveView, type ResultEvent } from '../connectors/live-view/live-view.ts';
import { startProcessor, type RunningProcessor, type RuntimeOptions } from '../streams/runtime/kafka-runner.ts';
import { visionModelSpec } from '../streams/vision/model.ts';
import { visionQc, visionQcOptionsFromEnv } from '../streams/vision/topology.ts';
import { DEFAULT_DEEPPCB_DIR } from './camera.ts';

/** Three DeepPCB frames committed with the model's tests: the demo's boards on a clone without ../shared. */
const FIXTURE_BOARDS = join(REPO_ROOT, 'models', 'vision', 'fixtures', 'gradcam');
const DEMO_SECONDS = 10;
const DEMO_FPS = 3;
const FOLLOW_FPS = 1;
const LIVE_VIEW_PORT = 8096;

export interface VisionDemo {
  ok: boolean;
  liveViewUrl: string | null;
  /** Keeps cameras running slowly (for --follow) until stop(). */
  keepFilming(): void;
  stop(): Promise<void>;
}

export async function demoVision(options: RuntimeOptions, say: (line: string) => void): Promise<VisionDemo> {
  const model = visionModelSpec();
  const processor: RunningProcessor = await startProcessor(visionQc(model, visionQcOptionsFromEnv()), { ...options, metricsPort: 0 });
  say(`processor vision-qc running (${model.name} ${model.version}, threshold ${model.meta.threshold}): http://127.0.0.1:${processor.httpPort}/metrics`);
  // Frame ids carry the run id: results of this run's frames are told apart from a backlog the
  // processor may find on the frames topic from earlier runs.
  const runId = `demo${Date.now().toString(36)}`;
  const verdicts = { PASS: 0, DEFECT: 0 };
  const liveViewOptions = {
    brokers: options.kafkaBrokers,
    schemaRegistryUrl: options.schemaRegistryUrl,
    log: options.logger!,
    onResult: (r: ResultEvent) => {
      if (r.frame_id.includes(runId)) verdicts[r.verdict]++;
    },
  };
  const view: LiveView = await startLiveView({ ...liveViewOptions, port: LIVE_VIEW_PORT }).catch((err: Error & { code?: string }) => {
    if (err.code !== 'EADDRINUSE') throw err;
    return startLiveView({ ...liveViewOptions, port: 0 });
  });
  for (const deadline = Date.now() + 30_000; !view.ready() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 200));
  say(`live QC view: ${view.url}`);

  const dataDir = existsSync(DEFAULT_DEEPPCB_DIR) ? DEFAULT_DEEPPCB_DIR : FIXTURE_BOARDS;
  const images = findDeepPcbImages(dataDir);
  const line = (fps: number, seconds: number, signal: AbortSignal, seed: number, run: string) =>
    runCameras({
      source: new DeepPcbLine(images, { cameras: 2, defectRate: 0.3, seed }),
      cameraIds: ['cam-01', 'cam-02'],
      lineId: 'line-demo',
      fps,
      durationMs: seconds * 1000,
      whenBehind: 'drop',
      brokers: options.kafkaBrokers,
      schemaRegistryUrl: options.schemaRegistryUrl,
      log: options.logger!,
      signal,
      runId: run,
    });
  const t0 = Date.now();
  const summary: CameraSummary = await line(DEMO_FPS, DEMO_SECONDS, new AbortController().signal, Date.now() % 100_000, runId);
  say(`cameras: ${summary.sent} frames (2 cameras x ${DEMO_FPS} fps x ${DEMO_SECONDS} s, DeepPCB boards from ${dataDir}, 30 % defective, with lighting/position jitter) -> vision.frames.v1`);

  // Wait until the processor has answered this run's frames (a result, or a dead letter, each).
  const dead = async () => (await processor.metrics.dlqRecords.get()).values.reduce((n, v) => n + v.value, 0);
  const deadline = Date.now() + 120_000;
  let answered = 0;
  while (Date.now() < deadline) {
    answered = verdicts.PASS + verdicts.DEFECT + (await dead());
    if (answered >= summary.sent) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  say(`vision-qc: ${verdicts.PASS} PASS and ${verdicts.DEFECT} DEFECT verdicts -> vision.qc-results.v1 (as the live view showed them) in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${await dead()} dead letters`);
  if (answered < summary.sent) say(`(vision-qc had answered ${answered} of ${summary.sent} frames when the demo stopped waiting)`);

  let follow: AbortController | null = null;
  let following: Promise<unknown> = Promise.resolve();
  return {
    ok: verdicts.PASS + verdicts.DEFECT > 0 && answered >= summary.sent,
    liveViewUrl: view.url,
    keepFilming() {
      follow = new AbortController();
      following = line(FOLLOW_FPS, Infinity, follow.signal, (Date.now() % 100_000) + 1, `${runId}f`).catch((err: Error) => say(`cameras stopped: ${err.message}`));
      say(`cameras keep filming at ${FOLLOW_FPS} fps each: watch ${view.url}`);
    },
    async stop() {
      follow?.abort();
      await following;
      await view.close();
      await processor.stop();
    },
  };
}
