// The overlay: jet colours, bilinear upsampling with aligned pixel centres, the alpha blend, and a
// PNG of the frame's size (or scaled to fit the cap) that decodes back to the blend.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { JET, OVERLAY_ALPHA, OVERLAY_MAX_SIDE, blendJet, overlaySize, renderHeatmapPng, renderOverlayPng, upsampleBilinear } from './overlay.ts';

const rgb = (k: number) => [JET[k * 3], JET[k * 3 + 1], JET[k * 3 + 2]];

describe('jet colour map', () => {
  it('runs dark blue -> blue -> cyan -> yellow -> red -> dark red', () => {
    // MATLAB's anchors at v = 0, 1/8, 3/8, 5/8, 7/8, 1 (the nearest of the 256 entries).
    const anchors: [number, number[]][] = [[0, [0, 0, 128]], [0.125, [0, 0, 255]], [0.375, [0, 255, 255]], [0.625, [255, 255, 0]], [0.875, [255, 0, 0]], [1, [128, 0, 0]]];
    for (const [v, want] of anchors) {
      const got = rgb(Math.round(v * 255));
      assert.ok(got.every((c, i) => Math.abs(c - want[i]) <= 3), `jet(${v}) = ${got}, expected about ${want}`);
    }
  });
});

describe('bilinear upsampling', () => {
  it('keeps a constant map constant and each cell value at its own centre', () => {
    const map = Float32Array.from([0, 1, 2, 3]); // 2x2
    const up = upsampleBilinear(map, 2, 2, 8, 8);
    // Centre of cell (0, 0) is between pixels 1 and 2 of 8: pixel (1.5, 1.5) -> value 0; edges clamp.
    assert.equal(up[0], 0);
    assert.equal(up[7 * 8 + 7], 3);
    // Halfway across (between the centres at x = 1.5 and 5.5): x = 3.5 is not a pixel, x = 3 and 4 straddle it symmetrically.
    assert.ok(Math.abs(up[3] + up[4] - 1) < 1e-6, `${up[3]} + ${up[4]}`);
    assert.ok(upsampleBilinear(new Float32Array(6).fill(0.25), 2, 3, 17, 9).every((v) => Math.abs(v - 0.25) < 1e-7));
  });

  it('is monotone along a ramp', () => {
    const up = upsampleBilinear(Float32Array.from([0, 0.5, 1]), 1, 3, 30, 1);
    for (let x = 1; x < 30; x++) assert.ok(up[x] >= up[x - 1]);
    assert.equal(up[0], 0);
    assert.equal(up[29], 1);
  });
});

describe('overlay', () => {
  it('blends jet over gray at alpha 0.45', () => {
    const out = blendJet(Uint8Array.from([100, 200]), Float32Array.from([0, 1]));
    const g = (v: number, c: number) => Math.round(OVERLAY_ALPHA * c + (1 - OVERLAY_ALPHA) * v);
    assert.deepEqual([...out], [g(100, 0), g(100, 0), g(100, 128), g(200, 128), g(200, 0), g(200, 0)]);
  });

  it('caps the longest side, keeping the aspect', () => {
    assert.deepEqual(overlaySize(640, 640), { width: 640, height: 640 });
    assert.deepEqual(overlaySize(OVERLAY_MAX_SIDE * 2, OVERLAY_MAX_SIDE), { width: OVERLAY_MAX_SIDE, height: OVERLAY_MAX_SIDE / 2 });
  });

  it('renders a PNG of the frame size that decodes to the blend', async () => {
    const frame = { gray: Buffer.alloc(48 * 32, 90), width: 48, height: 32, encoding: 'PNG' as const };
    const heat = Float32Array.from({ length: 4 * 6 }, (_, k) => (k === 9 ? 1 : 0));
    const png = await renderOverlayPng(frame, heat, 4, 6);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [48, 32, 3]);
    assert.ok(data.equals(blendJet(frame.gray, upsampleBilinear(heat, 4, 6, 48, 32))));
  });

  it('the raw heatmap PNG is the grid, 255 at its maximum', async () => {
    const png = await renderHeatmapPng(Float32Array.from([0, 0.5, 1, 0.25, 0, 0]), 2, 3);
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels, meta.depth], [3, 2, 1, 'uchar']);
    const data = await sharp(png).extractChannel(0).raw().toBuffer();
    assert.deepEqual([...data], [0, 128, 255, 64, 0, 0]);
  });
});
