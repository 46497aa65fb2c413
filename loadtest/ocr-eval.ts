// OCR accuracy and speed for docs/documents-ocr.md (LexiScan, issue #10): character error rate of
// tesseract.js without and with each image clean-up step, against the native `tesseract` CLI, on
// linn.png (a real scan with its transcription, ../shared/data/ocr-scans-ocrmypdf) and on CUAD
// contract pages rasterised at 300 dpi (ground truth: the page's text layer, `pdftotext`), clean and
// made to look scanned (turned 1-3 degrees, blurred, speckled, JPEG); then pages/s of tesseract.js
// and of the CLI on the same pages, one after the other, one thread each.
//   node loadtest/ocr-eval.ts [--pages 24] [--speed-pages 12] [--skip-cer] [--skip-speed] [--variant NAME ... (only these; 'native' for the CLI)]
//     [--out loadtest/results/ocr-eval-DATE.json]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import type { Worker } from 'tesseract.js';
import { cleanUpImage, decodeToGray, speckleShare, type CleanupStep } from '../streams/documents/pages/image-cleanup.ts';
import { createTesseractWorker, DEFAULT_CLEANUP, recognizeGray, type TesseractModel } from '../streams/documents/pages/ocr.ts';
import { renderPdfPage, type GrayImage } from '../streams/documents/pages/render.ts';
import { seededRandom } from '../streams/runtime/random.ts';

const { values: args } = parseArgs({
  options: { pages: { type: 'string', default: '24' }, 'speed-pages': { type: 'string', default: '12' }, out: { type: 'string' }, 'skip-speed': { type: 'boolean', default: false }, 'skip-cer': { type: 'boolean', default: false }, variant: { type: 'string', multiple: true } },
});
const SHARED = new URL('../../shared/data/', import.meta.url).pathname;
const CUAD_PDFS = join(SHARED, 'cuad', 'full_contract_pdf');
const LINN = join(SHARED, 'ocr-scans-ocrmypdf');
const DPI = 300;
const work = mkdtempSync(join(tmpdir(), 'ocr-eval-'));

/** Whitespace collapsed and compatibility forms folded (ligatures), on both sides. */
const normalize = (text: string) => text.normalize('NFKC').replace(/\s+/gu, ' ').trim();

/** Levenshtein distance in two rows. */
function editDistance(a: string, b: string): number {
  let prev = new Uint32Array(b.length + 1).map((_, j) => j);
  let row = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca === b.charCodeAt(j - 1) ? 0 : 1));
    [prev, row] = [row, prev];
  }
  return prev[b.length];
}

interface EvalPage {
  id: string;
  set: 'linn' | 'cuad-clean' | 'cuad-scanned';
  image: GrayImage;
  png: string;
  reference: string;
}

/** What a flatbed does to a page: a small turn, some blur, speckle and sensor noise, JPEG at quality 50. */
async function scannedLook(image: GrayImage, index: number): Promise<GrayImage> {
  // A fixed pseudo-random sequence, so the "scanned" pages are the same every run.
  const random = seededRandom(1000 + index);
  const degrees = (index % 2 ? -1 : 1) * (1 + (index % 5) * 0.5);
  const turned = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 1 } })
    .rotate(degrees, { background: { r: 255, g: 255, b: 255 } })
    .blur(0.7)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const pixels = new Uint8Array(turned.data);
  for (let i = 0; i < pixels.length; i++) {
    const r = random();
    if (r < 0.003) pixels[i] = 0;
    else if (r < 0.006) pixels[i] = 255;
    else pixels[i] = Math.max(0, Math.min(255, pixels[i] + Math.round((random() - 0.5) * 50)));
  }
  const jpeg = await sharp(pixels, { raw: { width: turned.info.width, height: turned.info.height, channels: 1 } }).jpeg({ quality: 50 }).toBuffer();
  return decodeToGray(jpeg, 100e6);
}

async function savePng(image: GrayImage, name: string): Promise<string> {
  const file = join(work, `${name}.png`);
  await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 1 } }).withMetadata({ density: DPI }).png().toFile(file);
  return file;
}

/** CUAD pages: the first PDFs by name, in each the first of pages 2, 3, 1 with at least 1,000 characters of text layer. */
async function cuadPages(count: number): Promise<EvalPage[]> {
  const pages: EvalPage[] = [];
  for (const file of readdirSync(CUAD_PDFS).sort()) {
    if (pages.length >= 2 * count) break;
    const pdf = join(CUAD_PDFS, file);
    for (const n of [2, 3, 1]) {
      let reference: string;
      try {
        reference = execFileSync('pdftotext', ['-f', String(n), '-l', String(n), '-enc', 'UTF-8', pdf, '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        continue;
      }
      if (normalize(reference).length < 1000) continue;
      const index = pages.length / 2;
      const image = await renderPdfPage(readFileSync(pdf), n, { ocrDpi: DPI, maxPagePixels: 60e6, readTimeoutMs: 60_000 });
      const id = `${file.replace(/\.pdf$/i, '')}#p${n}`;
      const scanned = await scannedLook(image, index);
      pages.push({ id, set: 'cuad-clean', image, png: await savePng(image, `cuad-${index}`), reference });
      pages.push({ id, set: 'cuad-scanned', image: scanned, png: await savePng(scanned, `cuad-${index}-scanned`), reference });
      break;
    }
  }
  return pages;
}

async function linnPage(): Promise<EvalPage> {
  const image = await decodeToGray(readFileSync(join(LINN, 'linn.png')), 100e6);
  return { id: 'linn.png', set: 'linn', image, png: await savePng(image, 'linn'), reference: readFileSync(join(LINN, 'linn.txt'), 'utf8') };
}

/**
 * Debian's eng.traineddata (4.1 MB) is tessdata_fast, a smaller network than the tessdata_best
 * model tesseract.js uses (@tesseract.js-data/eng 4.0.0_best_int): for a comparison of the engines
 * alone, the CLI also runs with that model, unpacked here.
 */
function bestIntTessdata(): string {
  const dir = join(work, 'tessdata-best-int');
  mkdirSync(dir, { recursive: true });
  const gz = readFileSync(new URL('../node_modules/@tesseract.js-data/eng/4.0.0_best_int/eng.traineddata.gz', import.meta.url));
  writeFileSync(join(dir, 'eng.traineddata'), gunzipSync(gz));
  return dir;
}

/** The CLI on one image (or a list file), one OpenMP thread; `cpuSeconds` (user + system) from bash's `times`, which a loaded host does not inflate. */
function nativeTesseract(input: string, tessdataDir?: string): Promise<{ text: string; ms: number; cpuSeconds: number }> {
  const started = performance.now();
  const model = tessdataDir ? ['--tessdata-dir', tessdataDir] : [];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'tesseract "$@" 2>/dev/null; status=$?; times >&2; exit $status', 'tesseract', input, 'stdout', '--dpi', String(DPI), '-l', 'eng', ...model], {
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    let times = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (text += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (times += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      // `times` prints the shell's own user/system times, then its children's.
      const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(times.trim());
      const cpuSeconds = m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : Number.NaN;
      if (code === 0) resolve({ text, ms: performance.now() - started, cpuSeconds });
      else reject(new Error(`tesseract exited ${code} on ${input}`));
    });
  });
}

/** CPU seconds (user + system) of this process, all threads: the tesseract.js worker thread does the work. */
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Jobs over `workers` in parallel, results in job order. */
async function inParallel<J, W, R>(jobs: J[], workers: W[], fn: (job: J, worker: W) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(workers.map(async (w) => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await fn(jobs[i], w);
    }
  }));
  return results;
}

const VARIANTS: { name: string; steps: CleanupStep[]; model?: TesseractModel }[] = [
  { name: 'tesseract.js raw', steps: [] },
  { name: '+ deskew', steps: ['deskew'] },
  { name: '+ denoise (median 3)', steps: ['denoise'] },
  { name: '+ binarize (Otsu)', steps: ['binarize'] },
  { name: '+ deskew + denoise', steps: ['deskew', 'denoise'] },
  { name: '+ deskew + denoise + binarize', steps: ['deskew', 'denoise', 'binarize'] },
  { name: '+ deskew + denoise-if-speckled', steps: ['deskew', 'denoise-if-speckled'] },
  { name: 'tesseract.js raw, model 4.0.0', steps: [], model: '4.0.0' },
];
const SETS = ['linn', 'cuad-clean', 'cuad-scanned'] as const;

const started = new Date();
const pages = [await linnPage(), ...(await cuadPages(Number(args.pages)))];
process.stderr.write(`${pages.length} pages ready in ${work}\n`);
const parallel = Math.max(1, Math.min(2, cpus().length));
const cer: Record<string, Record<string, { cer: number; pages: number; edits: number; referenceChars: number; meanConfidence?: number }>> = {};
const perPage: { id: string; set: string; engine: string; cer: number }[] = [];

function record(engine: string, results: { page: EvalPage; text: string; confidence?: number }[]) {
  cer[engine] = {};
  for (const set of SETS) {
    const rows = results.filter((r) => r.page.set === set);
    if (rows.length === 0) continue;
    let edits = 0;
    let chars = 0;
    for (const r of rows) {
      const ref = normalize(r.page.reference);
      const e = editDistance(normalize(r.text), ref);
      edits += e;
      chars += ref.length;
      perPage.push({ id: r.page.id, set, engine, cer: e / ref.length });
    }
    const confidences = rows.map((r) => r.confidence).filter((c): c is number => c !== undefined);
    cer[engine][set] = { cer: edits / chars, pages: rows.length, edits, referenceChars: chars, ...(confidences.length ? { meanConfidence: confidences.reduce((a, b) => a + b, 0) / confidences.length } : {}) };
  }
  process.stderr.write(`${engine}: ${SETS.map((s) => `${s} ${((cer[engine][s]?.cer ?? NaN) * 100).toFixed(2)}%`).join(', ')}\n`);
}

const chosen = (name: string) => !args.variant || args.variant.includes(name);
for (const variant of args['skip-cer'] ? [] : VARIANTS.filter((v) => chosen(v.name))) {
  const workers: Worker[] = await Promise.all(Array.from({ length: parallel }, () => createTesseractWorker(variant.model)));
  const jobs = variant.model ? pages.filter((p) => p.set !== 'cuad-scanned') : pages;
  const results = await inParallel(jobs, workers, async (page, w) => {
    const { text, confidence } = await recognizeGray(await cleanUpImage(page.image, variant.steps), DPI, w);
    return { page, text, confidence };
  });
  await Promise.all(workers.map((w) => w.terminate()));
  record(variant.name, results);
}
if (!args['skip-cer'] && chosen('native')) record('native tesseract 5.3.0 CLI', await inParallel(pages, Array.from({ length: parallel }, (_, i) => i), async (page) => ({ page, text: (await nativeTesseract(page.png)).text })));

// Speed: the same clean CUAD pages, one engine after the other, each on one thread.
let speed: Record<string, unknown> | null = null;
if (!args['skip-speed']) {
  const speedPages = pages.filter((p) => p.set === 'cuad-clean').slice(0, Number(args['speed-pages']));
  // Other work on the host slows both engines alike only if it leaves a core free: the load is recorded with the numbers.
  const loadBefore = loadavg()[0];
  const w = await createTesseractWorker();
  await recognizeGray(speedPages[0].image, DPI, w); // warm-up, not timed
  // Page by page, the engines one after the other (not one engine's block then the other's), so a
  // change of load on the host during the run falls on both alike.
  let jsRecognize = 0;
  let jsRecognizeCpu = 0;
  let jsWithCleanup = 0;
  let nativePerCall = 0;
  let nativePerCallCpu = 0;
  let nativeBestInt = 0;
  let nativeBestIntCpu = 0;
  const bestInt = bestIntTessdata();
  for (const p of speedPages) {
    let t = performance.now();
    const cpu = cpuSeconds();
    await recognizeGray(p.image, DPI, w);
    jsRecognizeCpu += cpuSeconds() - cpu;
    jsRecognize += (performance.now() - t) / 1000;
    t = performance.now();
    await recognizeGray(await cleanUpImage(p.image, DEFAULT_CLEANUP), DPI, w);
    jsWithCleanup += (performance.now() - t) / 1000;
    t = performance.now();
    nativePerCallCpu += (await nativeTesseract(p.png)).cpuSeconds;
    nativePerCall += (performance.now() - t) / 1000;
    t = performance.now();
    nativeBestIntCpu += (await nativeTesseract(p.png, bestInt)).cpuSeconds;
    nativeBestInt += (performance.now() - t) / 1000;
  }
  await w.terminate();
  const list = join(work, 'speed-pages.txt');
  writeFileSync(list, speedPages.map((p) => p.png).join('\n') + '\n');
  const t = performance.now();
  const nativeBatchCpu = (await nativeTesseract(list)).cpuSeconds;
  const nativeBatch = (performance.now() - t) / 1000;
  const rate = (s: number) => speedPages.length / s;
  speed = {
    pages: speedPages.length,
    threadsEach: 1,
    pagesPerSecond: {
      'tesseract.js recognise (warm worker, PGM in)': rate(jsRecognize),
      [`tesseract.js ${DEFAULT_CLEANUP.join(' + ')} + recognise`]: rate(jsWithCleanup),
      'native CLI, one process per page': rate(nativePerCall),
      'native CLI, one process for all pages (list file)': rate(nativeBatch),
      'native CLI with tesseract.js\'s model (4.0.0_best_int), one process per page': rate(nativeBestInt),
    },
    pagesPerCpuSecond: {
      'tesseract.js recognise': rate(jsRecognizeCpu),
      'native CLI, one process per page': rate(nativePerCallCpu),
      'native CLI, one process for all pages (list file)': rate(nativeBatchCpu),
      'native CLI with tesseract.js\'s model (4.0.0_best_int), one process per page': rate(nativeBestIntCpu),
    },
    slowdownOfJsVsNative: {
      wallPerCall: jsRecognize / nativePerCall,
      wallBatch: jsRecognize / nativeBatch,
      cpuPerCall: jsRecognizeCpu / nativePerCallCpu,
      cpuBatch: jsRecognizeCpu / nativeBatchCpu,
      cpuSameModel: jsRecognizeCpu / nativeBestIntCpu,
    },
    loadAverage1mBeforeAfter: [loadBefore, loadavg()[0]],
  };
  process.stderr.write(`speed: ${JSON.stringify(speed)}\n`);
}

const out = args.out ?? `loadtest/results/ocr-eval-${started.toISOString().slice(0, 10)}.json`;
mkdirSync(join(out, '..'), { recursive: true });
const host = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, tesseractCli: execFileSync('tesseract', ['--version'], { encoding: 'utf8' }).split('\n')[0] };
writeFileSync(out, JSON.stringify({ started: started.toISOString(), command: `node loadtest/ocr-eval.ts ${process.argv.slice(2).join(' ')}`.trim(), host, dpi: DPI, pages: pages.map((p) => ({ id: p.id, set: p.set, referenceChars: normalize(p.reference).length, speckleShare: speckleShare(p.image) })), cer, speed, perPage }, null, 2) + '\n');
rmSync(work, { recursive: true, force: true }); // ~200 MB of page PNGs
process.stderr.write(`wrote ${out}\n`);
