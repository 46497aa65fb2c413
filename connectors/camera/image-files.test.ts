import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CameraSourceError, findDeepPcbImages, listSequence, naturalCompare } from './image-files.ts';

const root = mkdtempSync(join(tmpdir(), 'camera-files-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('natural order puts frame2 before frame10', () => {
  assert.deepEqual(['frame10.png', 'frame2.png', 'Frame1.png', 'frame1.png'].sort(naturalCompare), ['Frame1.png', 'frame1.png', 'frame2.png', 'frame10.png']);
});

test('DeepPCB pairs are found anywhere below the folder and split by truth', () => {
  const dir = join(root, 'pcb');
  mkdirSync(join(dir, 'group1', '1'), { recursive: true });
  mkdirSync(join(dir, 'group2', '2_not'), { recursive: true });
  for (const f of ['group1/1/00010_temp.jpg', 'group1/1/00010_test.jpg', 'group1/1/00011_temp.jpg', 'group2/2_not/00010.txt', 'readme.jpg']) writeFileSync(join(dir, f), 'x');
  const found = findDeepPcbImages(dir);
  assert.deepEqual(found.pass.map((i) => [i.templateId, i.truth]), [['deeppcb/00010', 'PASS'], ['deeppcb/00011', 'PASS']]);
  assert.deepEqual(found.defect.map((i) => [i.path.slice(dir.length), i.templateId]), [['/group1/1/00010_test.jpg', 'deeppcb/00010']]);
});

test('a folder without DeepPCB images, or no folder at all, is a clear error', () => {
  const dir = join(root, 'plain');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a.jpg'), 'x');
  assert.throws(() => findDeepPcbImages(dir), (e: Error) => e instanceof CameraSourceError && /no DeepPCB images .* camera folder/.test(e.message));
  assert.throws(() => findDeepPcbImages(join(root, 'missing')), /no such folder/);
  assert.throws(() => listSequence(join(root, 'plain', 'a.jpg')), /is not a folder/);
});

test('a sequence is the image files of the folder in natural order, nothing else', () => {
  const dir = join(root, 'seq');
  mkdirSync(join(dir, 'sub.png'), { recursive: true });
  for (const f of ['f10.png', 'f2.JPG', 'f1.jpeg', 'notes.txt', '.hidden.png', 'f3.webp']) writeFileSync(join(dir, f), 'x');
  assert.deepEqual(listSequence(dir).map((p) => p.slice(dir.length + 1)), ['f1.jpeg', 'f2.JPG', 'f3.webp', 'f10.png']);
  const empty = join(root, 'empty');
  mkdirSync(empty);
  assert.throws(() => listSequence(empty), /no image files/);
});
