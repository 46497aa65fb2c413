// Post-processing on synthetic model outputs whose answer is known by construction: where the
// peaks are, what boxes they make in frame pixels, where the Grad-CAM peak lies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ModelOutputError, findBoxes, heatmapPeakCell, normaliseHeatmap, postprocess, sigmoid, type ModelOutputs, type PostprocessRules } from './postprocess.ts';

const ROWS = 8;
const COLS = 10;
const CLASSES = ['open', 'short', 'spur'];
const RULES: PostprocessRules = { threshold: 0.5, boxThreshold: 0.3, maxBoxes: 50, stride: 16, classes: CLASSES, inputWidth: COLS * 16, inputHeight: ROWS * 16 };
const CELLS = ROWS * COLS;

function outputs(over: Partial<ModelOutputs> = {}): ModelOutputs {
  return {
    defectLogit: 0,
    centers: new Float32Array(CLASSES.length * CELLS).fill(0.01),
    sizes: new Float32Array(2 * CELLS).fill(16),
    offsets: new Float32Array(2 * CELLS).fill(0.5),
    gradcam: new Float32Array(CELLS),
    rows: ROWS,
    cols: COLS,
    ...over,
  };
}

/** Puts a centre of class c at cell (i, j) with score, size (model px) and sub-cell offset. */
function placeCentre(out: ModelOutputs, c: number, i: number, j: number, score: number, w = 32, h = 16, ox = 0.5, oy = 0.5): void {
  const at = i * COLS + j;
  out.centers[c * CELLS + at] = score;
  out.sizes[at] = w;
  out.sizes[CELLS + at] = h;
  out.offsets[at] = ox;
  out.offsets[CELLS + at] = oy;
}

describe('defect probability and verdict', () => {
  it('sigmoid is stable at the extremes and exact at 0', () => {
    assert.equal(sigmoid(0), 0.5);
    assert.equal(sigmoid(1000), 1);
    assert.equal(sigmoid(-1000), 0);
    assert.ok(Math.abs(sigmoid(2) - 1 / (1 + Math.exp(-2))) < 1e-15);
  });

  it('DEFECT exactly from the threshold up', () => {
    const logitAt = (p: number) => Math.log(p / (1 - p));
    const frame = { width: 160, height: 128 };
    assert.equal(postprocess(outputs({ defectLogit: logitAt(0.7) }), { ...RULES, threshold: 0.7 + 1e-9 }, frame).verdict, 'PASS');
    assert.equal(postprocess(outputs({ defectLogit: logitAt(0.7) }), { ...RULES, threshold: 0.7 - 1e-9 }, frame).verdict, 'DEFECT');
    const r = postprocess(outputs({ defectLogit: 3 }), RULES, frame);
    assert.ok(Math.abs(r.defectProbability - sigmoid(3)) < 1e-12);
  });

  it('boxes only on DEFECT verdicts: the same peaks give boxes above the threshold and none below', () => {
    const frame = { width: 160, height: 128 };
    const out = outputs();
    placeCentre(out, 1, 2, 3, 0.9);
    const above = postprocess({ ...out, defectLogit: 5 }, { ...RULES, threshold: 0.5 }, frame);
    const below = postprocess({ ...out, defectLogit: -5 }, { ...RULES, threshold: 0.5 }, frame);
    assert.deepEqual([above.verdict, above.boxes.length], ['DEFECT', 1]);
    assert.deepEqual([below.verdict, below.boxes.length], ['PASS', 0]);
  });
});

describe('boxes', () => {
  it('a peak becomes a box around (cell + offset) * stride, scaled to the frame', () => {
    const out = outputs();
    placeCentre(out, 1, 3, 4, 0.9, 40, 24, 0.25, 0.75);
    // Model input 160x128; frame 320x384: sx = 2, sy = 3.
    const boxes = findBoxes(out, RULES, { width: 320, height: 384 });
    assert.equal(boxes.length, 1);
    const cx = (4 + 0.25) * 16; // 68
    const cy = (3 + 0.75) * 16; // 60
    assert.deepEqual({ ...boxes[0], score: Math.round(boxes[0].score * 1e6) / 1e6 }, {
      x: (cx - 20) * 2,
      y: (cy - 12) * 3,
      width: 40 * 2,
      height: 24 * 3,
      score: 0.9,
      defect_class: 'short',
    });
  });

  it('only 3x3 local maxima at or above box_threshold, per class', () => {
    const out = outputs();
    placeCentre(out, 0, 2, 2, 0.8);
    out.centers[0 * CELLS + 2 * COLS + 3] = 0.6; // neighbour of the 0.8 peak: not a peak
    placeCentre(out, 0, 6, 8, 0.3); // exactly box_threshold: a peak
    placeCentre(out, 0, 6, 1, 0.29); // below: none
    placeCentre(out, 2, 2, 3, 0.5); // same cell as the suppressed one, other class: a peak
    const boxes = findBoxes(out, RULES, { width: 160, height: 128 });
    assert.deepEqual(boxes.map((b) => [b.defect_class, Math.round(b.score * 100) / 100]), [['open', 0.8], ['spur', 0.5], ['open', 0.3]]);
  });

  it('keeps the top max_boxes by score', () => {
    const out = outputs();
    const scores = [0.35, 0.9, 0.5, 0.7, 0.45];
    scores.forEach((s, k) => placeCentre(out, 0, 1 + (k % 3) * 3, 1 + Math.floor(k / 3) * 4, s));
    const boxes = findBoxes(out, { ...RULES, maxBoxes: 3 }, { width: 160, height: 128 });
    assert.deepEqual(boxes.map((b) => Math.round(b.score * 100) / 100), [0.9, 0.7, 0.5]);
  });

  it('a box reaching past the frame is clamped to it and keeps at least one pixel', () => {
    const out = outputs();
    placeCentre(out, 0, 0, 0, 0.9, 64, 64, 0, 0); // centre at (0, 0): half outside
    placeCentre(out, 1, 7, 9, 0.8, 0.01, 0.01, 0.99, 0.99); // a tiny box at the bottom-right corner
    const [a, b] = findBoxes(out, RULES, { width: 160, height: 128 });
    assert.deepEqual([a.x, a.y, a.width, a.height], [0, 0, 32, 32]);
    assert.ok(b.x + b.width <= 160 && b.y + b.height <= 128 && b.width >= 1 && b.height >= 1, JSON.stringify(b));
  });

  it('none when nothing reaches box_threshold', () => {
    assert.deepEqual(findBoxes(outputs(), RULES, { width: 160, height: 128 }), []);
  });
});

describe('heatmap', () => {
  it('is normalised to max 1; all zeros stays zeros; negatives count as 0', () => {
    const cam = Float32Array.from([0, 2, 4, -1]);
    assert.deepEqual([...normaliseHeatmap(cam)], [0, 0.5, 1, 0]);
    assert.deepEqual([...normaliseHeatmap(new Float32Array(4))], [0, 0, 0, 0]);
  });

  it('the peak is the argmax cell refined by its 3x3 weighted centroid, in frame pixels', () => {
    const cam = new Float32Array(CELLS);
    cam[4 * COLS + 6] = 4; // argmax at (i=4, j=6)
    cam[4 * COLS + 7] = 2; // pulls the centroid right: j = 6.25
    cam[3 * COLS + 6] = 2; // and up: i = 3.75
    cam[0] = 3.9; // outside the neighbourhood: ignored
    const cell = heatmapPeakCell(normaliseHeatmap(cam), ROWS, COLS)!;
    assert.ok(Math.abs(cell.j - (6 * 4 + 7 * 2 + 6 * 2) / 8) < 1e-6, `j ${cell.j}`);
    assert.ok(Math.abs(cell.i - (4 * 4 + 4 * 2 + 3 * 2) / 8) < 1e-6, `i ${cell.i}`);
    const r = postprocess(outputs({ gradcam: cam }), RULES, { width: 320, height: 256 });
    assert.ok(Math.abs(r.peak!.x - (cell.j + 0.5) * 16 * 2) < 1e-6);
    assert.ok(Math.abs(r.peak!.y - (cell.i + 0.5) * 16 * 2) < 1e-6);
    assert.equal(Math.max(...r.heatmap), 1);
  });

  it('a peak on the border uses the neighbours that exist', () => {
    const cam = new Float32Array(CELLS);
    cam[0] = 1;
    cam[1] = 1;
    assert.deepEqual(heatmapPeakCell(cam, ROWS, COLS), { i: 0, j: 0.5 });
  });

  it('no peak for an all-zero heatmap', () => {
    assert.equal(postprocess(outputs(), RULES, { width: 160, height: 128 }).peak, null);
  });
});

describe('unusable outputs', () => {
  it('a wrong-sized output or a NaN is a ModelOutputError naming it', () => {
    assert.throws(() => postprocess(outputs({ gradcam: new Float32Array(CELLS - 1) }), RULES, { width: 160, height: 128 }), (e: Error) => e instanceof ModelOutputError && /gradcam has 79 values, expected 80/.test(e.message));
    const centers = new Float32Array(CLASSES.length * CELLS);
    centers[5] = Number.NaN;
    assert.throws(() => postprocess(outputs({ centers }), RULES, { width: 160, height: 128 }), /center_heatmap has NaN at index 5/);
    assert.throws(() => postprocess(outputs({ defectLogit: Number.NaN }), RULES, { width: 160, height: 128 }), /defect_logit is NaN/);
  });
});
