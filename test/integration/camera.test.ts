// `streamscore camera simulate | folder` as a user runs them (the CLI in a child process) against
// the real Kafka and registry: frames arrive on vision.frames.v1 keyed by camera, in Avro that the
// registry's schema decodes, paced to the asked FPS, jittered like a line (not byte copies of the
// boards), in natural file order for a folder (bytes unchanged), and SIGINT sends what was taken.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { CameraFrame } from '../../schemas/generated/types.ts';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { collect, endpoints, runId, testKafka } from './helpers.ts';

const SIZE = 96;
let root: string;
let serde: AvroSerde;

/** A board: a grey background with a bright trace whose position identifies it. */
async function board(index: number): Promise<Buffer> {
  const raw = Buffer.alloc(SIZE * SIZE, 60);
  for (let y = 10; y < 86; y++) for (let x = 10 + index * 12; x < 18 + index * 12; x++) raw[y * SIZE + x] = 220;
  return sharp(raw, { raw: { width: SIZE, height: SIZE, channels: 1 } }).jpeg({ quality: 95 }).toBuffer();
}

function cli(args: string[], stopAfterMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(REPO_ROOT, 'node_modules/.bin/node'), [join(REPO_ROOT, 'bin/streamscore.mjs'), ...args], { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      // Stop only once the cameras run (the first progress line), so frames were taken.
      if (stopAfterMs !== undefined && /frames sent/.test(stderr) && !child.killed) setTimeout(() => child.kill('SIGINT'), stopAfterMs);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('camera connectors', { timeout: 180_000 }, () => {
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'camera-it-'));
    mkdirSync(join(root, 'pcb', 'group9', '9'), { recursive: true });
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(root, 'pcb', 'group9', '9', `9000${i}_temp.jpg`), await board(i));
      writeFileSync(join(root, 'pcb', 'group9', '9', `9000${i}_test.jpg`), await board(i + 3));
    }
    serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
    serde.useReader(TOPICS.cameraFrames.name, loadSchema(TOPICS.cameraFrames.schema));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('simulate: two cameras at the asked FPS, jittered JPEG boards keyed by camera, ground truth in a header', async () => {
    const line = runId();
    const r = await cli(['camera', 'simulate', '--data', join(root, 'pcb'), '--fps', '20', '--cameras', '2', '--duration', '3s', '--defect-rate', '0.5', '--line-id', line, '--progress-every', '1s']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.match(r.stderr, /cam-01 \d+\.\d fps, cam-02 \d+\.\d fps/);
    const frames = await collectLine(line, summary.sent);
    assert.equal(frames.length, summary.sent, 'every frame the summary counts is on the topic, once');
    for (const camera of ['cam-01', 'cam-02']) {
      const mine = frames.filter((f) => f.frame.camera_id === camera).sort((a, b) => a.frame.captured_at - b.frame.captured_at);
      // 3 s at 20 fps = 60; a loaded machine may lose a few triggers (counted as dropped).
      assert.ok(mine.length >= 50 && mine.length <= 60, `${camera}: ${mine.length} frames`);
      assert.ok(mine.every((f) => f.key === camera));
      const gaps = mine.slice(1).map((f, i) => f.frame.captured_at - mine[i].frame.captured_at).sort((a, b) => a - b);
      assert.ok(Math.abs(gaps[Math.floor(gaps.length / 2)] - 50) <= 5, `median gap ${gaps[Math.floor(gaps.length / 2)]} ms`);
    }
    const truths = new Set(frames.map((f) => f.headers['streamscore-simulated-truth']));
    assert.deepEqual([...truths].sort(), ['DEFECT', 'PASS']);
    const sources = new Map<string, Buffer>();
    let differ = 0;
    for (const { frame, headers } of frames.slice(0, 20)) {
      assert.equal(frame.encoding, 'JPEG');
      assert.deepEqual([frame.width, frame.height], [SIZE, SIZE]);
      const meta = await sharp(frame.image).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['jpeg', SIZE, SIZE, 1]);
      const file = headers['streamscore-frame-source'];
      assert.match(frame.template_id ?? '', /^deeppcb\/9000\d$/);
      assert.equal(headers['streamscore-simulated-truth'], file.endsWith('_test.jpg') ? 'DEFECT' : 'PASS');
      // Still the same board (mean level close to the source's), but not a copy of the file.
      const path = join(root, 'pcb', 'group9', '9', file.split('/').at(-1)!);
      const source = sources.get(path) ?? (await sharp(readFileSync(path)).greyscale().raw().toBuffer());
      sources.set(path, source);
      const raw = await sharp(frame.image).raw().toBuffer();
      const mean = (b: Buffer) => b.reduce((s, v) => s + v, 0) / b.length;
      assert.ok(Math.abs(mean(raw) - mean(source)) < 30, `mean ${mean(raw)} vs source ${mean(source)}`);
      if (!frame.image.equals(readFileSync(path))) differ++;
    }
    assert.equal(differ, 20, 'frames are re-encoded with jitter');
  });

  test('folder: files in natural order as one camera, JPEG/PNG bytes unchanged, an unreadable file skipped', async () => {
    const dir = join(root, 'seq');
    mkdirSync(dir);
    const png = async (level: number) => sharp(Buffer.alloc(32 * 24, level), { raw: { width: 32, height: 24, channels: 1 } }).png().toBuffer();
    const files: Record<string, Buffer> = { 'frame1.png': await png(10), 'frame2.png': await png(20), 'frame10.png': await png(100), 'frame3.png': Buffer.from('not a png') };
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    const line = runId();
    const r = await cli(['camera', 'folder', dir, '--fps', '20', '--camera-id', 'cam-seq', '--line-id', line]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual([summary.ended, summary.sent, summary.cameras[0].dropped], ['source-ended', 3, { unusable: 1 }]);
    assert.match(r.stdout, /frame3\.png.*not a readable image/, 'the skipped file is named in the log');
    const frames = (await collectLine(line, 3)).sort((a, b) => a.frame.captured_at - b.frame.captured_at);
    assert.deepEqual(frames.map((f) => f.frame.image), [files['frame1.png'], files['frame2.png'], files['frame10.png']]);
    assert.ok(frames.every((f) => f.key === 'cam-seq' && f.frame.encoding === 'PNG' && f.frame.width === 32 && f.frame.height === 24 && f.frame.template_id === null));
  });

  test('SIGINT stops the cameras, sends what was taken and prints the summary', async () => {
    const line = runId();
    const r = await cli(['camera', 'simulate', '--data', join(root, 'pcb'), '--fps', '10', '--cameras', '1', '--line-id', line, '--progress-every', '500ms'], 700);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.ended, 'stopped');
    assert.ok(summary.sent >= 5, `sent ${summary.sent}`);
    assert.equal((await collectLine(line, summary.sent)).length, summary.sent);
  });

  test('bad options and a folder without boards are clear errors', async () => {
    const bad = await cli(['camera', 'simulate', '--fps', 'fast']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--fps "fast" is not a number/);
    const empty = await cli(['camera', 'simulate', '--data', join(root, 'seq')]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no DeepPCB images .* use `streamscore camera folder/);
  });
});

/** The frames of one run (its line id), once `count` of them are there (and a second more, to see extras). */
async function collectLine(lineId: string, count: number) {
  const seen = new Map<string, { key: string | null; frame: CameraFrame; headers: Record<string, string> }>();
  const all = await collect(testKafka(), [TOPICS.cameraFrames.name], (m) => m.value.includes(Buffer.from(lineId)), (ms) => ms.length >= count, 60_000, 1_000);
  const out = [];
  for (const m of all) {
    const frame = (await serde.decode(TOPICS.cameraFrames.name, m.value)) as CameraFrame;
    assert.equal(frame.line_id, lineId);
    assert.ok(!seen.has(frame.frame_id), `frame ${frame.frame_id} twice`);
    seen.set(frame.frame_id, { key: m.key, frame, headers: m.headers });
    out.push(seen.get(frame.frame_id)!);
  }
  return out;
}
