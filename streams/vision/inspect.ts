// `streamscore vision inspect IMAGE... [--json] [--heatmaps DIR] [--model DIR]`: the stream's model
// and post-processing (inspectFrame, the worker task's own function) on image files, no stack
// needed. One result per image: a JSON line, or a readable line; a bad file is reported and the
// rest go on, and the exit code is 1 at the end if any file failed.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { batchFiles } from '../runtime/file-list.ts';
import { FileModelSource, type LoadedModel } from '../runtime/models.ts';
import { DEFAULT_FRAME_LIMITS, FrameRejectedError } from './frame-image.ts';
import { inspectFrame, type FrameInspection } from './inspect-frame.ts';
import { DEFAULT_VISION_MODEL_DIR, visionModelSpec } from './model.ts';
import { renderHeatmapPng } from './overlay.ts';

export const INSPECT_USAGE = `usage: streamscore vision inspect IMAGE... [--files-from LIST|-] [--json] [--heatmaps DIR] [--model DIR]

  IMAGE           JPEG or PNG files (the format is read from the bytes, not the name)
  --json          one JSON object per image on stdout (a failed file: {"file", "error"})
  --heatmaps DIR  write NAME.heatmap.png (Grad-CAM at grid resolution, 255 = its max) and
                  NAME.overlay.png (jet overlay on the frame) for every image
  --model DIR     model-meta.json + pcb-qc.onnx (default models/vision/artifacts)
  --files-from LIST  also the images listed in LIST, one path a line (- for stdin); the command
                  uses it itself when its command line is long (a long one crashes onnxruntime)
`;

/** The JSON line of one inspected image: QcResult's fields plus where the model looked. */
export interface InspectReport {
  file: string;
  verdict: FrameInspection['verdict'];
  defect_probability: number;
  boxes: FrameInspection['boxes'];
  heatmap_peak: { x: number; y: number } | null;
  width: number;
  height: number;
  model_name: string;
  model_version: string;
  latency_ms: number;
  heatmap_png?: string;
  overlay_png?: string;
}

export function reportOf(file: string, r: FrameInspection, model: LoadedModel): InspectReport {
  return {
    file,
    verdict: r.verdict,
    defect_probability: r.defectProbability,
    boxes: r.boxes,
    heatmap_peak: r.peak,
    width: r.width,
    height: r.height,
    model_name: model.spec.name,
    model_version: model.spec.version,
    latency_ms: Math.round(r.latencyMs * 10) / 10,
  };
}

export function formatReport(r: InspectReport): string {
  const boxes = r.boxes.length === 0 ? 'no boxes' : `${r.boxes.length} box${r.boxes.length > 1 ? 'es' : ''}: ${r.boxes.slice(0, 5).map((b) => `${b.defect_class} ${b.score.toFixed(2)} at ${b.x},${b.y} ${b.width}x${b.height}`).join(', ')}${r.boxes.length > 5 ? ', ...' : ''}`;
  const peak = r.heatmap_peak ? `peak (${Math.round(r.heatmap_peak.x)}, ${Math.round(r.heatmap_peak.y)})` : 'no heatmap peak';
  return `${r.file}  ${r.verdict.padEnd(6)}  p=${r.defect_probability.toFixed(3)}  ${boxes}  ${peak}  [${r.width}x${r.height}, ${r.latency_ms} ms]`;
}

/** NAME for the PNGs of `file`, unique within one run (two inputs may share a base name). */
function outputStem(file: string, used: Set<string>): string {
  const stem = basename(file, extname(file)) || 'image';
  let name = stem;
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}`;
  used.add(name);
  return name;
}

function readImage(file: string): Buffer {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new FrameRejectedError('not a regular file');
    size = st.size;
  } catch (err) {
    if (err instanceof FrameRejectedError) throw err;
    throw new FrameRejectedError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // Checked before reading, so a 50 GB file is refused without being loaded.
  if (size > DEFAULT_FRAME_LIMITS.maxBytes) throw new FrameRejectedError(`image is ${size} bytes, over the limit of ${DEFAULT_FRAME_LIMITS.maxBytes}`);
  return readFileSync(file);
}

export interface InspectIo {
  out(line: string): void;
  err(line: string): void;
}

export async function runInspect(args: string[], io: InspectIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, tokens: true, options: { json: { type: 'boolean' }, 'files-from': { type: 'string' }, heatmaps: { type: 'string' }, model: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.err(`streamscore vision inspect: ${(err as Error).message}\n\n${INSPECT_USAGE}`);
    return 2;
  }
  const { values, positionals, tokens } = parsed;
  if (values.help) {
    io.out(INSPECT_USAGE);
    return 0;
  }
  // A long command line crashes onnxruntime's session creation: the same command again, the files on its stdin.
  const files = await batchFiles(['vision', 'inspect'], args, { positionals, tokens }, values['files-from'], io.err);
  if (typeof files === 'number') return files;
  if (files.length === 0) {
    io.err(`streamscore vision inspect: no IMAGE given\n\n${INSPECT_USAGE}`);
    return 2;
  }
  const heatmapDir = values.heatmaps ? resolve(values.heatmaps) : null;
  if (heatmapDir) mkdirSync(heatmapDir, { recursive: true });
  const model = await new FileModelSource().load(visionModelSpec(values.model ?? DEFAULT_VISION_MODEL_DIR), { intraOpThreads: availableParallelism() });
  const used = new Set<string>();
  let failed = 0;
  try {
    for (const file of files) {
      try {
        const r = await inspectFrame(readImage(file), {}, model, { overlay: heatmapDir ? 'all' : 'none' });
        const report = reportOf(file, r, model);
        if (heatmapDir) {
          const stem = outputStem(file, used);
          report.heatmap_png = join(heatmapDir, `${stem}.heatmap.png`);
          report.overlay_png = join(heatmapDir, `${stem}.overlay.png`);
          writeFileSync(report.heatmap_png, await renderHeatmapPng(r.heatmap, r.rows, r.cols));
          writeFileSync(report.overlay_png, r.overlayPng!);
        }
        io.out(values.json ? JSON.stringify(report) : formatReport(report));
      } catch (err) {
        // A frame's own fault is reported and the run goes on; anything else (the model) ends it.
        if (!(err instanceof FrameRejectedError)) throw err;
        failed++;
        if (values.json) io.out(JSON.stringify({ file, error: err.message }));
        io.err(`${file}: ${err.message}`);
      }
    }
  } finally {
    await model.close();
  }
  if (failed) io.err(`${failed} of ${files.length} image${files.length > 1 ? 's' : ''} could not be inspected`);
  return failed ? 1 : 0;
}
