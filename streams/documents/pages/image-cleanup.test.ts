// Image clean-up steps: skew estimated and removed, Otsu's threshold, and the PGM leptonica reads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { cleanUpImage, decodeToGray, estimateSkewDegrees, otsuThreshold, SPECKLE_THRESHOLD, speckleShare, toPgm } from './image-cleanup.ts';

const scanPng = readFileSync(join(import.meta.dirname, 'fixtures', 'scan-page.png'));
const turned = async (degrees: number) => decodeToGray(await sharp(scanPng).rotate(degrees, { background: '#ffffff' }).png().toBuffer(), 50e6);

describe('deskew', () => {
  for (const degrees of [2, -3, 0.5]) {
    it(`a page turned ${degrees} degrees is measured so and turned back`, async () => {
      const image = await turned(degrees);
      assert.ok(Math.abs((await estimateSkewDegrees(image)) - degrees) <= 0.15, `estimated ${await estimateSkewDegrees(image)}`);
      const straight = await cleanUpImage(image, ['deskew']);
      assert.ok(Math.abs(await estimateSkewDegrees(straight)) <= 0.15);
    });
  }

  it('a straight page is left as it is (no resampling)', async () => {
    const image = await decodeToGray(scanPng, 50e6);
    assert.equal(await estimateSkewDegrees(image), 0);
    assert.equal(await cleanUpImage(image, ['deskew']), image);
  });

  it('a page without ink measures 0', async () => {
    assert.equal(await estimateSkewDegrees({ pixels: new Uint8Array(100 * 100).fill(255), width: 100, height: 100 }), 0);
  });
});

describe('binarize and denoise', () => {
  it("Otsu's threshold separates two gray levels", () => {
    const pixels = new Uint8Array(1000);
    pixels.fill(40, 0, 300).fill(200, 300);
    const t = otsuThreshold(pixels);
    assert.ok(t >= 40 && t < 200, `threshold ${t}`);
  });

  it('binarize leaves only black and white; denoise removes an isolated speck', async () => {
    const image = await decodeToGray(scanPng, 50e6);
    const binary = await cleanUpImage(image, ['binarize']);
    assert.deepEqual(new Set(binary.pixels), new Set([0, 255]));
    const specked = { ...image, pixels: new Uint8Array(image.pixels) };
    specked.pixels[5 * image.width + 5] = 0;
    const denoised = await cleanUpImage(specked, ['denoise']);
    assert.equal(denoised.pixels[5 * image.width + 5], 255);
    assert.equal(denoised.width, image.width);
  });
});

describe('denoise only where there is speckle', () => {
  it('a clean render has almost no isolated specks and is left alone; a speckled one is filtered', async () => {
    const clean = await decodeToGray(scanPng, 50e6);
    assert.ok(speckleShare(clean) < SPECKLE_THRESHOLD / 10, `clean: ${speckleShare(clean)}`);
    assert.equal(await cleanUpImage(clean, ['denoise-if-speckled']), clean);
    const speckled = { ...clean, pixels: new Uint8Array(clean.pixels) };
    for (let i = 0; i < speckled.pixels.length; i += 997) speckled.pixels[i] = 0;
    assert.ok(speckleShare(speckled) > SPECKLE_THRESHOLD, `speckled: ${speckleShare(speckled)}`);
    const filtered = await cleanUpImage(speckled, ['denoise-if-speckled']);
    assert.ok(speckleShare(filtered) < SPECKLE_THRESHOLD / 10, `after the median: ${speckleShare(filtered)}`);
  });
});

it('toPgm writes a binary PGM header and the pixels', () => {
  const pgm = toPgm({ pixels: new Uint8Array([0, 128, 255, 7]), width: 2, height: 2 });
  assert.deepEqual(pgm, Buffer.concat([Buffer.from('P5\n2 2\n255\n'), Buffer.from([0, 128, 255, 7])]));
});
