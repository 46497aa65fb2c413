import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CameraJitter, DEFAULT_JITTER, NO_JITTER, applyJitter, toneCurve, type FrameJitter } from './line-jitter.ts';

const still: FrameJitter = { dx: 0, dy: 0, brightness: 0, contrast: 1, gamma: 1, noiseSigma: 0, noiseOffset: 0 };

test('a camera draws the same jitter for the same seed, another camera or seed draws other jitter', () => {
  const draw = (seed: number, camera: number) => Array.from({ length: 20 }, ((j) => () => j.next())(new CameraJitter(seed, camera)));
  assert.deepEqual(draw(1, 0), draw(1, 0));
  assert.notDeepEqual(draw(1, 0), draw(1, 1));
  assert.notDeepEqual(draw(1, 0), draw(2, 0));
});

test('jitter stays inside its limits over a long run, and it does move', () => {
  const j = new CameraJitter(7, 0);
  const seen = { shifted: 0, brightness: new Set<number>() };
  for (let i = 0; i < 5_000; i++) {
    const f = j.next();
    assert.ok(Math.abs(f.dx) <= DEFAULT_JITTER.maxShiftPx && Math.abs(f.dy) <= DEFAULT_JITTER.maxShiftPx, `shift ${f.dx},${f.dy}`);
    assert.ok(Math.abs(f.brightness) <= DEFAULT_JITTER.maxBrightness);
    assert.ok(Math.abs(f.contrast - 1) <= DEFAULT_JITTER.maxContrast + 1e-12);
    assert.ok(Math.abs(Math.log(f.gamma)) <= DEFAULT_JITTER.maxLogGamma + 1e-12);
    if (f.dx !== 0 || f.dy !== 0) seen.shifted++;
    seen.brightness.add(Math.round(f.brightness));
  }
  assert.ok(seen.shifted > 1_000, `frames shifted: ${seen.shifted}`);
  assert.ok(seen.brightness.size > 10, 'brightness varies');
  const none = new CameraJitter(7, 0, NO_JITTER).next();
  assert.deepEqual([none.dx, none.dy, none.brightness, none.contrast, none.gamma, none.noiseSigma], [0, 0, 0, 1, 1, 0]);
});

test('no jitter leaves pixels as they are; a shift moves them and replicates the edge', () => {
  const width = 8;
  const height = 6;
  const data = new Uint8Array(width * height).map((_, i) => (i * 37) % 256);
  assert.deepEqual(applyJitter({ data, width, height, channels: 1 }, still).data, data);
  const shifted = applyJitter({ data, width, height, channels: 1 }, { ...still, dx: 2, dy: 1 }).data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = Math.max(0, x - 2);
      const sy = Math.max(0, y - 1);
      assert.equal(shifted[y * width + x], data[sy * width + sx], `pixel ${x},${y}`);
    }
  }
  // Channels move together.
  const rgb = new Uint8Array([10, 20, 30, 40, 50, 60]);
  assert.deepEqual([...applyJitter({ data: rgb, width: 2, height: 1, channels: 3 }, { ...still, dx: 1 }).data], [10, 20, 30, 10, 20, 30]);
});

test('the tone curve is monotone, brightens with a positive offset, and noise has the asked spread', () => {
  const curve = toneCurve({ brightness: 20, contrast: 1.1, gamma: 0.9 });
  for (let v = 1; v < 256; v++) assert.ok(curve[v] >= curve[v - 1]);
  assert.ok(curve[128] > 128);
  const flat = new Uint8Array(200 * 200).fill(128);
  const noisy = applyJitter({ data: flat, width: 200, height: 200, channels: 1 }, { ...still, noiseSigma: 3, noiseOffset: 12345 }).data;
  const mean = noisy.reduce((s, v) => s + v, 0) / noisy.length;
  const sd = Math.sqrt(noisy.reduce((s, v) => s + (v - mean) ** 2, 0) / noisy.length);
  assert.ok(Math.abs(mean - 128) < 0.1, `mean ${mean}`);
  assert.ok(Math.abs(sd - 3) < 0.15, `sd ${sd}`);
});

test('a raw buffer of the wrong size is refused', () => {
  assert.throws(() => applyJitter({ data: new Uint8Array(10), width: 4, height: 4, channels: 1 }, still), /10 bytes, expected 4x4x1/);
});
