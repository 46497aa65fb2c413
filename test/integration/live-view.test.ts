// The live QC view in a real headless chromium: results (and frames) produced to the real topics
// reach the page over server-sent events and are drawn — the overlay or the joined frame on the
// canvas, boxes in their class colour, verdicts, box counts, the rolling defect rate — and a newer
// result replaces the old one. Also: a record that does not decode is skipped and counted, and a
// result delivered twice is shown and counted once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { CameraFrame, QcResult } from '../../schemas/generated/types.ts';
import { startLiveView, type LiveView } from '../../connectors/live-view/live-view.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { endpoints, freePort, quietLog, runId, testKafka } from './helpers.ts';
import { ensureChromium, launchChromium } from './live-view-browser.ts';

// The callbacks below run in the page; these are the few browser globals they touch (the project
// type-checks for Node, without the DOM library).
interface PageElement {
  dataset: Record<string, string>;
  textContent: string | null;
  width: number;
  height: number;
  querySelector(selector: string): PageElement | null;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): { length: number }; getElementById(id: string): PageElement | null };
declare const window: { streamscoreLiveView: { classColor(c: string): string } };

const run = runId();
const cam = (s: string) => `${run}-cam-${s}`;
const OVERLAY_RGB = [20, 40, 230];
const FRAME_GREY = 180;

async function overlayPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: OVERLAY_RGB[0], g: OVERLAY_RGB[1], b: OVERLAY_RGB[2] } } }).png().toBuffer();
}

async function greyJpeg(width: number, height: number, level: number): Promise<Buffer> {
  return sharp(Buffer.alloc(width * height, level), { raw: { width, height, channels: 1 } }).jpeg({ quality: 95 }).toBuffer();
}

function result(camera: string, frameId: string, over: Partial<QcResult>): QcResult {
  const now = Date.now();
  return { frame_id: frameId, camera_id: camera, captured_at: now - 80, inspected_at: now, verdict: 'PASS', defect_probability: 0.02, boxes: [], heatmap_png: null, heatmap_peak: null, model_name: 'pcb-qc-test', model_version: '2026-12-05.it', latency_ms: 31, ...over };
}

const pixel = (page: Page, camera: string, x: number, y: number, canvas = 'canvas.latest') =>
  page.evaluate(([c, px, py, which]) => [...document.querySelector(`.tile[data-camera="${c}"] ${which}`)!.getContext('2d')!.getImageData(px, py, 1, 1).data].slice(0, 3), [camera, x, y, canvas] as const);

const tile = (page: Page, camera: string) =>
  page.evaluate((c) => {
    const el = document.querySelector(`.tile[data-camera="${c}"]`);
    if (!el) return null;
    const canvas = el.querySelector('canvas.latest')!;
    const d = el.dataset;
    return { verdict: d.verdict, boxCount: d.boxCount, imageKind: d.imageKind, frameId: d.frameId, lastDefectFrameId: d.lastDefectFrameId, verdictText: el.querySelector('.verdict')!.textContent, boxesText: el.querySelector('.boxes')!.textContent, width: canvas.width, height: canvas.height };
  }, camera);

const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const near = (a: number[], b: number[], tolerance: number) => a.every((v, i) => Math.abs(v - b[i]) <= tolerance);

describe('live QC view in chromium', { timeout: 240_000 }, () => {
  let view: LiveView;
  let browser: Browser | null = null;
  let chromiumPath: string | null = null;
  let skipReason = '';

  before(async () => {
    const c = await ensureChromium();
    if ('path' in c) chromiumPath = c.path;
    else skipReason = c.unavailable;
    const { kafkaBrokers, schemaRegistryUrl } = endpoints();
    // A short wait for frames: camera c's frame never comes, and its result must still render.
    view = await startLiveView({ port: await freePort(), brokers: kafkaBrokers, schemaRegistryUrl, log: quietLog, frameWaitMs: 800 });
  });

  after(async () => {
    await browser?.close();
    await view?.close();
  });

  test('results and frames produced to Kafka are drawn on the page as they arrive', async (t) => {
    if (!chromiumPath) return t.skip(skipReason);
    // Latest offsets: records produced before the view has its partitions would never be seen.
    const readyBy = Date.now() + 60_000;
    while ((await fetch(`${view.url}readyz`)).status !== 200) {
      assert.ok(Date.now() < readyBy, 'live view not ready (consumer group joined, first fetch) within 60 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    browser = await launchChromium(chromiumPath);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(view.url);
    await page.waitForFunction(() => document.getElementById('connection')?.textContent === 'live', null, { timeout: 15_000 });

    const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
    await serde.useTopic(TOPICS.cameraFrames.name, loadSchema(TOPICS.cameraFrames.schema));
    await serde.useTopic(TOPICS.qcResults.name, loadSchema(TOPICS.qcResults.schema));
    const frameB: CameraFrame = { frame_id: `${cam('b')}-1`, camera_id: cam('b'), line_id: 'line-it', captured_at: Date.now(), width: 400, height: 300, encoding: 'JPEG', image: await greyJpeg(400, 300, FRAME_GREY), template_id: null };
    const boxesA = [
      { x: 40, y: 60, width: 60, height: 50, score: 0.88, defect_class: 'open' },
      { x: 200, y: 120, width: 50, height: 50, score: 0.71, defect_class: 'short' },
    ];
    const a1 = result(cam('a'), `${cam('a')}-1`, { verdict: 'DEFECT', defect_probability: 0.91, boxes: boxesA, heatmap_png: await overlayPng(320, 240), heatmap_peak: { x: 70, y: 85 } });
    const b1 = result(cam('b'), frameB.frame_id, {});
    const c1 = result(cam('c'), `${cam('c')}-1`, { verdict: 'DEFECT', defect_probability: 0.77, boxes: [{ x: 10, y: 30, width: 20, height: 20, score: 0.6, defect_class: 'spur' }] });
    const producer = testKafka().producer();
    await producer.connect();
    try {
      await producer.send({ topic: TOPICS.cameraFrames.name, acks: -1, messages: [{ key: frameB.camera_id, value: serde.encode(TOPICS.cameraFrames.name, frameB) }] });
      await producer.send({
        topic: TOPICS.qcResults.name,
        acks: -1,
        messages: [
          { key: cam('x'), value: Buffer.from('not an avro record') },
          // b1 twice: the processor is at-least-once, and the view counts a frame once.
          ...[a1, b1, c1, b1].map((r) => ({ key: r.camera_id, value: serde.encode(TOPICS.qcResults.name, r) })),
        ],
      });

      await page.waitForFunction((ids) => ids.every((id) => document.querySelector(`.tile[data-frame-id="${id}"]`)), [a1.frame_id, b1.frame_id, c1.frame_id], { timeout: 20_000 });
      const a = await tile(page, cam('a'));
      assert.deepEqual({ verdict: a?.verdict, text: a?.verdictText, boxes: a?.boxCount, boxesText: a?.boxesText, kind: a?.imageKind, size: [a?.width, a?.height] }, { verdict: 'DEFECT', text: 'DEFECT', boxes: '2', boxesText: '2 boxes', kind: 'overlay', size: [320, 240] });
      // The overlay is on the canvas where no box is, and each box's left edge is in its class colour.
      assert.deepEqual(await pixel(page, cam('a'), 150, 220), OVERLAY_RGB);
      const colors = await page.evaluate(() => ['open', 'short'].map((c) => window.streamscoreLiveView.classColor(c)));
      assert.notDeepEqual(colors[0], colors[1]);
      assert.deepEqual(await pixel(page, cam('a'), 40, 60 + 25), hex(colors[0]));
      assert.deepEqual(await pixel(page, cam('a'), 200, 120 + 25), hex(colors[1]));

      // No heatmap: the frame joined by frame_id from vision.frames.v1 is shown.
      const b = await tile(page, cam('b'));
      assert.deepEqual({ verdict: b?.verdict, boxes: b?.boxCount, kind: b?.imageKind, size: [b?.width, b?.height] }, { verdict: 'PASS', boxes: '0', kind: 'frame', size: [400, 300] });
      assert.ok(near(await pixel(page, cam('b'), 200, 150), [FRAME_GREY, FRAME_GREY, FRAME_GREY], 3), 'the frame is drawn on the canvas');
      // Neither heatmap nor frame: the boxes on a blank frame.
      const c = await tile(page, cam('c'));
      assert.deepEqual({ verdict: c?.verdict, boxes: c?.boxCount, kind: c?.imageKind }, { verdict: 'DEFECT', boxes: '1', kind: 'none' });

      // Stats arrive each second: 2 of 3 defective, the model, the list of verdicts.
      await page.waitForFunction(() => document.getElementById('stat-defect-rate')?.textContent === '66.7 %', null, { timeout: 5_000 });
      const header = await page.evaluate(() => ({ total: document.getElementById('stat-total')!.textContent, fps: Number(document.getElementById('stat-fps')!.textContent), model: document.getElementById('model')!.textContent, recent: document.querySelectorAll('#recent li').length }));
      assert.equal(header.total, '3 (2 defective)');
      assert.ok(header.fps > 0, `inspected/s shown: ${header.fps}`);
      assert.equal(header.model, 'pcb-qc-test 2026-12-05.it');
      assert.equal(header.recent, 3);

      // A newer result for camera a replaces the old one on its tile.
      const a2 = result(cam('a'), `${cam('a')}-2`, { heatmap_png: await overlayPng(320, 240) });
      await producer.send({ topic: TOPICS.qcResults.name, acks: -1, messages: [{ key: a2.camera_id, value: serde.encode(TOPICS.qcResults.name, a2) }] });
      await page.waitForFunction((id) => document.querySelector(`.tile[data-frame-id="${id}"]`), a2.frame_id, { timeout: 10_000 });
      const a2tile = await tile(page, cam('a'));
      assert.deepEqual({ verdict: a2tile?.verdict, boxes: a2tile?.boxCount }, { verdict: 'PASS', boxes: '0' });
      assert.deepEqual(await pixel(page, cam('a'), 40, 60 + 25), OVERLAY_RGB, 'the old boxes are gone');
      // ... while the camera's last defect stays up beside it.
      assert.equal(a2tile?.lastDefectFrameId, a1.frame_id);
      assert.deepEqual(await pixel(page, cam('a'), 40, 60 + 25, '.last-defect canvas'), hex(colors[0]));
      assert.deepEqual(pageErrors, []);
    } finally {
      await producer.disconnect();
    }

    const metrics = await (await fetch(`${view.url}metrics`)).text();
    assert.match(metrics, /streamscore_live_view_results_total\{verdict="DEFECT"\} 2\n/);
    assert.match(metrics, /streamscore_live_view_results_total\{verdict="PASS"\} 2\n/);
    assert.match(metrics, /streamscore_live_view_undecodable_total\{topic="vision.qc-results.v1"\} 1\n/);
    assert.match(metrics, /streamscore_live_view_duplicate_results_total 1\n/);
    assert.match(metrics, /streamscore_live_view_clients 1\n/);
    assert.equal((await fetch(`${view.url}healthz`)).status, 200);
  });
});
