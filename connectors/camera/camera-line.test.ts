import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CameraFrame } from '../../schemas/generated/types.ts';
import { createLogger } from '../../streams/runtime/logger.ts';
import { runCameraLine, type CameraLineOptions } from './camera-line.ts';
import { createCameraMetrics } from './camera-metrics.ts';
import { UnusableImageError, type CapturedImage, type FrameSource } from './frame-sources.ts';

const log = createLogger({ test: true }).child({}, { level: 'silent' });
const picture = (source: string): CapturedImage => ({ image: Buffer.from(source), encoding: 'PNG', width: 4, height: 3, templateId: null, truth: null, source });

function line(source: FrameSource, over: Partial<CameraLineOptions>) {
  const frames: CameraFrame[] = [];
  const o: CameraLineOptions = {
    source,
    cameraIds: ['cam-a', 'cam-b'],
    lineId: 'line-t',
    fps: 50,
    durationMs: 400,
    whenBehind: 'drop',
    outlet: { offer: (f) => (frames.push(f), true) },
    metrics: createCameraMetrics({ defaultMetrics: false }),
    log,
    signal: new AbortController().signal,
    runId: 'r1',
    ...over,
  };
  return { frames, run: () => runCameraLine(o) };
}

test('cameras trigger on the wall clock at the asked rate, staggered, with ordered ids', async () => {
  const { frames, run } = line({ capture: async (c, i) => picture(`${c}/${i}`) }, {});
  const result = await run();
  assert.equal(result.ended, 'duration');
  for (const camera of ['cam-a', 'cam-b']) {
    const mine = frames.filter((f) => f.camera_id === camera);
    // 400 ms at 50 fps = 20 triggers (21 when the one due at 400 ms fires before the end is
    // noticed); a loaded machine may lose one or two as late.
    assert.ok(mine.length >= 17 && mine.length <= 21, `${camera}: ${mine.length} frames`);
    const gaps = mine.slice(1).map((f, i) => f.captured_at - mine[i].captured_at).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)];
    assert.ok(median >= 17 && median <= 23, `${camera}: median gap ${median} ms`);
    // Ids name the camera and run and count up with every picture taken.
    assert.deepEqual(mine.map((f) => f.frame_id), mine.map((_, i) => `${camera}-r1-${String(i).padStart(7, '0')}`));
    assert.ok(mine.every((f) => f.line_id === 'line-t' && f.encoding === 'PNG' && f.width === 4 && f.height === 3));
  }
  const first = (c: string) => frames.find((f) => f.camera_id === c)!.captured_at;
  assert.ok(first('cam-b') - first('cam-a') >= 5, 'the second camera fires half a period after the first');
});

test('a live line drops triggers while captures are stuck, and says so; a sequence waits and sends every picture', async () => {
  const slow: FrameSource = { capture: (c, i) => new Promise((r) => setTimeout(() => r(picture(`${c}/${i}`)), 120)) };
  const live = line(slow, { cameraIds: ['cam-a'], maxInFlight: 1 });
  const result = await live.run();
  const dropped = result.cameras[0].dropped;
  assert.ok((dropped.busy ?? 0) + (dropped.late ?? 0) >= 10, `dropped: ${JSON.stringify(dropped)}`);
  assert.ok(live.frames.length >= 3 && live.frames.length <= 5, `sent ${live.frames.length}`);

  const files = ['f1', 'f2', 'f3', 'f4', 'f5'];
  const recorded = line({ capture: async (_c, i) => (i < files.length ? new Promise((r) => setTimeout(() => r(picture(files[i])), 30)) : null) }, { cameraIds: ['cam-a'], whenBehind: 'wait', fps: 200, durationMs: Infinity, maxInFlight: 1 });
  const done = await recorded.run();
  assert.equal(done.ended, 'source-ended');
  assert.deepEqual(recorded.frames.map((f) => f.image.toString()), files);
});

test('an unusable picture is skipped and counted; any other capture failure ends the run with it', async () => {
  const flaky = line({ capture: async (_c, i) => (i === 1 ? Promise.reject(new UnusableImageError('/x/bad.png', 'not a readable image')) : i < 3 ? picture(`p${i}`) : null) }, { cameraIds: ['cam-a'], whenBehind: 'wait', fps: 200, durationMs: Infinity });
  const result = await flaky.run();
  assert.deepEqual(flaky.frames.map((f) => f.image.toString()), ['p0', 'p2']);
  assert.deepEqual(result.cameras[0].dropped, { unusable: 1 });
  const broken = line({ capture: async () => Promise.reject(new Error('disk on fire')) }, { cameraIds: ['cam-a'] });
  await assert.rejects(broken.run(), /disk on fire/);
});

test('a stop ends the run at once; a full outlet counts queue-full; a bad rate is refused', async () => {
  const abort = new AbortController();
  const full = line({ capture: async () => picture('p') }, { cameraIds: ['cam-a'], durationMs: Infinity, signal: abort.signal, outlet: { offer: () => false } });
  setTimeout(() => abort.abort(), 150);
  const started = Date.now();
  const result = await full.run();
  assert.equal(result.ended, 'stopped');
  assert.ok(Date.now() - started < 1_000);
  assert.ok((result.cameras[0].dropped['queue-full'] ?? 0) >= 3);
  await assert.rejects(line({ capture: async () => picture('p') }, { fps: 0 }).run(), /fps must be in/);
});
