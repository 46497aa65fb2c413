// Is it safe to terminate a pool thread while it OCRs? The runtime's pool terminates a worker at a
// record's deadline (piscina abort). onnxruntime aborts the process when terminated mid-run
// (runtime/worker-entry.ts), so each phase of an OCR job is checked here: tesseract.js starting,
// pdfjs + @napi-rs/canvas rendering, sharp cleaning up, and tesseract.js recognising (wasm in its
// own nested worker thread). After every termination the process must be alive and the pool must
// OCR the next page correctly.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';

const bytes = readFileSync(join(import.meta.dirname, 'fixtures', 'scan.pdf'));
type Phases = Record<'tesseractStart' | 'render' | 'cleanup' | 'recognize', [number, number]>;
const pool = new Piscina({ filename: join(import.meta.dirname, 'fixtures', 'ocr-task.ts'), minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
after(() => pool.destroy());

const run = (signal?: AbortSignal) => pool.run({ bytes }, { signal }) as Promise<{ text: string; phases: Phases }>;

/** Runs a job and aborts it `ms` after it is submitted; true when the abort landed (the job did not finish first). */
async function abortAfter(ms: number): Promise<boolean> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    await run(controller.signal);
    return false;
  } catch (err) {
    assert.equal((err as Error).name, 'AbortError', `unexpected failure: ${(err as Error).message}`);
    return true;
  } finally {
    clearTimeout(timer);
  }
}

describe('terminating a pool thread during OCR', () => {
  it('in every phase: the process survives and the next job OCRs the page', { timeout: 90_000 }, async () => {
    const warm = await run();
    assert.match(warm.text, /governed by the laws/);
    const landed: string[] = [];
    for (const phase of ['render', 'cleanup', 'recognize', 'recognize', 'tesseractStart'] as const) {
      // A warm worker: tesseract is up, so the phases of the next job start where the warm run's did.
      const timing = (await run()).phases;
      const [start, end] = timing[phase];
      const origin = timing.tesseractStart[0];
      const mid = phase === 'tesseractStart' ? 0 : start - origin + (end - start) * (landed.length % 2 ? 0.3 : 0.6);
      // tesseractStart: abort a cold worker (the one the last abort replaced) while tesseract.js loads its model.
      if (phase === 'tesseractStart') {
        assert.ok(await abortAfter(150));
        assert.ok(await abortAfter(300), 'the replacement worker was aborted while starting tesseract');
      } else if (await abortAfter(Math.max(1, mid))) landed.push(`${phase}@${mid.toFixed(0)}ms`);
      const next = await run();
      assert.match(next.text, /governed by the laws[^]*invoice the Company monthly/, `after aborting in ${phase}`);
    }
    assert.ok(landed.length >= 3, `aborts that landed mid-job: ${landed.join(', ')}`);
  });
});
