// `streamscore vision inspect` end to end, as a user runs it: the committed model on image files,
// JSON lines, PNGs in --heatmaps DIR, per-file errors and the exit code. Assertions hold for any
// correctly exported model (shapes, ranges, consistency with model-meta.json); the accuracy check
// runs only on a trained model and on DeepPCB when ../shared has it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadVisionMeta } from './model.ts';
import type { InspectReport } from './inspect.ts';

const MAIN = new URL('../../cli/main.ts', import.meta.url).pathname;
const DEEPPCB = new URL('../../../shared/data/deeppcb/PCBData/', import.meta.url).pathname;
const meta = loadVisionMeta();

function cli(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, 'vision', 'inspect', ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn' } });
}

/** A board-like frame: traces and pads on a flat background. */
function board(width: number, height: number, seed: number): Buffer {
  const px = Buffer.alloc(width * height, 190);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x + seed) % 90 < 14 || ((y * 3 + seed) % 160 < 10 && x % 300 < 220)) px[y * width + x] = 25;
  return px;
}

function checkReport(r: InspectReport, width: number, height: number): void {
  assert.ok(r.defect_probability >= 0 && r.defect_probability <= 1, `probability ${r.defect_probability}`);
  assert.equal(r.verdict, r.defect_probability >= meta.threshold ? 'DEFECT' : 'PASS');
  assert.deepEqual([r.width, r.height, r.model_name, r.model_version], [width, height, meta.model_name, meta.model_version]);
  assert.ok(r.boxes.length <= meta.max_boxes);
  r.boxes.forEach((b, k) => {
    assert.ok(meta.classes.includes(b.defect_class!), `class ${b.defect_class}`);
    assert.ok(b.score >= meta.box_threshold && b.score <= 1 && (k === 0 || b.score <= r.boxes[k - 1].score), 'boxes are above box_threshold, best first');
    assert.ok(b.x >= 0 && b.y >= 0 && b.width >= 1 && b.height >= 1 && b.x + b.width <= width && b.y + b.height <= height, `box outside the frame: ${JSON.stringify(b)}`);
  });
  if (r.heatmap_peak) assert.ok(r.heatmap_peak.x >= 0 && r.heatmap_peak.x <= width && r.heatmap_peak.y >= 0 && r.heatmap_peak.y <= height, `peak ${JSON.stringify(r.heatmap_peak)}`);
}

describe('vision inspect', () => {
  let dir: string;
  const files: Record<string, string> = {};
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vision-inspect-'));
    const raw = { raw: { width: 800, height: 600, channels: 1 as const } };
    files.jpeg = join(dir, 'board.jpg');
    writeFileSync(files.jpeg, await sharp(board(800, 600, 7), raw).jpeg({ quality: 92 }).toBuffer());
    // The JPEG's own decoded pixels, losslessly as PNG: the result must be identical.
    const decoded = await sharp(files.jpeg).grayscale().raw().toBuffer();
    files.png = join(dir, 'same-pixels.png');
    writeFileSync(files.png, await sharp(decoded, raw).png().toBuffer());
    files.truncated = join(dir, 'truncated.jpg');
    writeFileSync(files.truncated, (await sharp(board(640, 640, 3), { raw: { width: 640, height: 640, channels: 1 } }).jpeg().toBuffer()).subarray(0, 4000));
    files.missing = join(dir, 'no-such-file.png');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('one JSON object per image, PNGs in --heatmaps DIR, bad files reported and exit 1 at the end', async () => {
    const out = join(dir, 'heatmaps');
    const r = cli(files.jpeg, files.truncated, files.png, files.missing, '--json', '--heatmaps', out);
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as InspectReport & { error?: string });
    assert.deepEqual(lines.map((l) => l.file), [files.jpeg, files.truncated, files.png, files.missing]);
    assert.match(lines[1].error!, /^corrupt JPEG: .*premature end/);
    assert.equal(lines[3].error, 'cannot read: ENOENT');
    assert.match(r.stderr, /truncated\.jpg: corrupt JPEG/);
    assert.match(r.stderr, /2 of 4 images could not be inspected/);
    const [jpeg, , png] = lines;
    checkReport(jpeg, 800, 600);
    const { heatmap_png: h1, overlay_png: o1, ...jpegResult } = jpeg;
    const { heatmap_png: h2, overlay_png: o2, latency_ms: _l2, ...pngResult } = png;
    assert.deepEqual({ ...jpegResult, latency_ms: 0, file: '' }, { ...pngResult, latency_ms: 0, file: '' }, 'the same pixels as JPEG and PNG gave different results');
    assert.deepEqual(readdirSync(out).sort(), ['board.heatmap.png', 'board.overlay.png', 'same-pixels.heatmap.png', 'same-pixels.overlay.png']);
    await Promise.all([
      sharp(o1!).metadata().then((m) => assert.deepEqual([m.width, m.height, m.channels], [800, 600, 3])),
      sharp(h1!).metadata().then((m) => assert.deepEqual([m.width, m.height, m.channels], [meta.input.width / meta.stride, meta.input.height / meta.stride, 1])),
      sharp(o2!).metadata().then((m) => assert.equal(m.width, 800)),
      sharp(h2!).metadata().then((m) => assert.equal(m.channels, 1)),
    ]);
  });

  it('a readable line per image without --json; exit 0 when all are good', () => {
    const r = cli(files.jpeg, files.png);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], new RegExp(`^${files.jpeg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}  (PASS  |DEFECT)  p=[01]\\.\\d{3}  .*\\[800x600, [\\d.]+ ms\\]$`));
  });

  it('usage errors exit 2; a missing model directory is one clear error, exit 1', () => {
    assert.equal(cli().status, 2);
    assert.match(cli('--frobnicate', files.jpeg).stderr, /Unknown option '--frobnicate'/);
    const r = cli(files.jpeg, '--model', join(dir, 'nowhere'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no vision model in .*nowhere: model-meta\.json is missing/);
  });

  const trained = meta.trained === true;
  it('a trained model tells DeepPCB defect images from their templates', { skip: !existsSync(DEEPPCB) ? `${DEEPPCB} not present` : !trained ? 'the committed model is the untrained placeholder' : false }, () => {
    const group = join(DEEPPCB, 'group00041', '00041');
    const ids = readdirSync(group).filter((f) => f.endsWith('_test.jpg')).slice(0, 10).map((f) => f.replace('_test.jpg', ''));
    const images = ids.flatMap((id) => [join(group, `${id}_test.jpg`), join(group, `${id}_temp.jpg`)]);
    const r = cli(...images, '--json');
    assert.equal(r.status, 0, r.stderr);
    const reports = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as InspectReport);
    reports.forEach((rep) => checkReport(rep, 640, 640));
    const seen = reports.map((x) => `${x.file.split('/').pop()} ${x.verdict} ${x.defect_probability.toFixed(2)}`).join(', ');
    // What the shipped model does (models/vision/MODEL_CARD.md): it ranks a board's test image above
    // its clean template, and its threshold (98 % recall on validation) catches every defect image;
    // its known weakness is false rejects of clean boards of some designs, so PASS frames are not
    // all asserted here.
    for (let k = 0; k < reports.length; k += 2) {
      const [defect, clean] = [reports[k], reports[k + 1]];
      assert.ok(defect.defect_probability > clean.defect_probability, `test image not above its template: ${seen}`);
      assert.equal(defect.verdict, 'DEFECT', `a defect image passed: ${seen}`);
    }
    assert.ok(reports.filter((rep) => rep.file.endsWith('_test.jpg')).some((rep) => rep.boxes.length > 0), 'no boxes on any defect image');
  });
});
