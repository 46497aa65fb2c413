// The worker task of vision-qc: one camera frame -> inspection, on a thread of the runtime's pool
// (streams/runtime/worker-pool.ts), with the model that thread loaded. A frame that cannot be
// inspected is rejected with its reason (RecordRejectedError: the runtime dead-letters the record
// and the batch goes on); any other failure is the model's or a bug and fails the job.
import sharp from 'sharp';
import type { DefectBox, ImageEncoding } from '../../schemas/generated/types.ts';
import { RecordRejectedError } from '../runtime/record-rejected-error.ts';
import type { TaskEnv } from '../runtime/worker-entry.ts';
import { FrameRejectedError } from './frame-image.ts';
import { inspectFrame, type BrightnessStats, type OverlayPolicy } from './inspect-frame.ts';

// libvips' own threads would compete with onnxruntime's, which the pool already sized to the
// cores; and caching decoded inputs only holds memory, since every frame is new.
sharp.concurrency(1);
sharp.cache(false);

export interface FrameJob {
  /** ModelSpec name of the model to run (env.models key). */
  model: string;
  encoding: ImageEncoding;
  width: number;
  height: number;
  image: Uint8Array;
  overlay: OverlayPolicy;
}

export interface FrameJobResult {
  verdict: 'PASS' | 'DEFECT';
  defectProbability: number;
  boxes: DefectBox[];
  peak: { x: number; y: number } | null;
  overlayPng: Uint8Array | null;
  /** The model call alone. */
  latencyMs: number;
  /** Of the model input, for the drift monitor (computed here, on the worker, where the pixels are). */
  brightness: BrightnessStats;
}

export default async function inspectFrameTask(job: FrameJob, env: TaskEnv): Promise<FrameJobResult> {
  const model = env.models[job.model];
  if (!model) throw new Error(`vision task: model ${job.model} is not loaded in this worker (loaded: ${Object.keys(env.models).join(', ') || 'none'})`);
  try {
    const r = await inspectFrame(job.image, { encoding: job.encoding, width: job.width, height: job.height }, model, { overlay: job.overlay });
    return { verdict: r.verdict, defectProbability: r.defectProbability, boxes: r.boxes, peak: r.peak, overlayPng: r.overlayPng, latencyMs: r.latencyMs, brightness: r.brightness };
  } catch (err) {
    if (err instanceof FrameRejectedError) throw new RecordRejectedError(err.message);
    throw err;
  }
}
