// Finding the images a camera replays: DeepPCB pairs (a template `*_temp.jpg` is a good board, its
// test image `*_test.jpg` the same board with defects; .png too) anywhere under a folder, and the image files of
// a plain folder in the order a video's frames would have (natural sort: frame2 before frame10).
import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

export class CameraSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CameraSourceError';
  }
}

export interface DeepPcbImage {
  path: string;
  /** What the board in the image is: the template is defect-free, the test image has defects. */
  truth: 'PASS' | 'DEFECT';
  /** The pair's id, e.g. `deeppcb/00041000`: the template (golden image) both frames are compared with. */
  templateId: string;
}

/** Files under `dir`, recursively, depth-first in name order; symlinked folders are not followed. */
function walk(dir: string, depth = 0): string[] {
  if (depth > 8) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => naturalCompare(a.name, b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path, depth + 1));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function assertFolder(dir: string, what: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new CameraSourceError(`${what} ${dir}: no such folder`);
  }
  if (!isDir) throw new CameraSourceError(`${what} ${dir} is not a folder`);
}

/** Every DeepPCB template and test image under `dir`, split by truth. */
export function findDeepPcbImages(dir: string): { pass: DeepPcbImage[]; defect: DeepPcbImage[] } {
  assertFolder(dir, 'DeepPCB data');
  const pass: DeepPcbImage[] = [];
  const defect: DeepPcbImage[] = [];
  for (const path of walk(dir)) {
    const m = /^(.+)_(temp|test)\.(jpe?g|png)$/i.exec(basename(path));
    if (!m) continue;
    const image = { path, truth: m[2].toLowerCase() === 'temp' ? 'PASS' : 'DEFECT', templateId: `deeppcb/${m[1]}` } as const;
    (image.truth === 'PASS' ? pass : defect).push(image);
  }
  if (pass.length === 0 && defect.length === 0) {
    throw new CameraSourceError(`no DeepPCB images (*_temp.jpg, *_test.jpg) under ${dir}; for a folder of other images use \`streamscore camera folder ${dir}\``);
  }
  return { pass, defect };
}

const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp|tiff?|gif|avif)$/i;

/** The image files directly in `dir` (by extension), natural-sorted: the frames of a sequence. */
export function listSequence(dir: string): string[] {
  assertFolder(dir, 'image folder');
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.test(e.name) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(naturalCompare);
  if (files.length === 0) throw new CameraSourceError(`no image files (jpg, png, webp, tiff, gif, avif) in ${dir}`);
  return files.map((f) => join(dir, f));
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** frame2.png < frame10.png; ties broken by code points so the order is total. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A path for logs and headers: relative to `root` when inside it. */
export function displayPath(path: string, root: string): string {
  const r = relative(root, path);
  return r && !r.startsWith('..') ? r : path;
}
