// Frame decoding and validation: every bad frame the issue names is refused with a reason a person
// can act on, and good frames of any JPEG/PNG flavour become 8-bit grayscale of the right size.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { DEFAULT_FRAME_LIMITS, FrameRejectedError, decodeFrame, modelInput, sniffEncoding } from './frame-image.ts';
import { boardPixels, pngClaiming } from './test-frames.ts';

const gray = (w: number, h: number) => sharp(boardPixels(w, h), { raw: { width: w, height: h, channels: 1 } });
const jpeg = (w = 200, h = 120) => gray(w, h).jpeg({ quality: 90 }).toBuffer();
const png = (w = 200, h = 120) => gray(w, h).png().toBuffer();

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FrameRejectedError, `expected FrameRejectedError, got ${(err as Error).name}: ${(err as Error).message}`);
    return err.message;
  }
  assert.fail('the frame was accepted');
}

describe('frames that are refused, with the reason', () => {
  it('empty bytes', async () => {
    assert.equal(await rejection(decodeFrame(new Uint8Array(0), { encoding: 'JPEG' })), 'image is empty (0 bytes)');
  });

  it('bytes that are no image', async () => {
    assert.match(await rejection(decodeFrame(Buffer.from('hello, not a frame'), { encoding: 'JPEG' })), /^image is neither JPEG nor PNG \(first bytes 68 65 6c 6c 6f 2c 20 6e\); encoding says JPEG$/);
  });

  it('a PNG declared as JPEG, and a JPEG declared as PNG', async () => {
    assert.equal(await rejection(decodeFrame(await png(), { encoding: 'JPEG' })), 'encoding says JPEG but the image bytes are a PNG');
    assert.equal(await rejection(decodeFrame(await jpeg(), { encoding: 'PNG' })), 'encoding says PNG but the image bytes are a JPEG');
  });

  it('a truncated JPEG, one with corrupt scan data, one that is only a header', async () => {
    const good = await jpeg();
    assert.match(await rejection(decodeFrame(good.subarray(0, Math.floor(good.length * 0.6)), { encoding: 'JPEG' })), /^corrupt JPEG: .*premature end/i);
    const flipped = Buffer.from(good);
    for (let k = Math.floor(good.length / 2); k < Math.floor(good.length / 2) + 200; k++) flipped[k] ^= 0x5a;
    assert.match(await rejection(decodeFrame(flipped, { encoding: 'JPEG' })), /^corrupt JPEG: /);
    assert.match(await rejection(decodeFrame(good.subarray(0, 100), { encoding: 'JPEG' })), /^corrupt JPEG: corrupt header/);
  });

  it('width/height fields that do not match the image', async () => {
    assert.equal(await rejection(decodeFrame(await jpeg(200, 120), { encoding: 'JPEG', width: 640, height: 480 })), 'frame declares 640x480 but the JPEG is 200x120');
    assert.equal(await rejection(decodeFrame(await png(200, 120), { encoding: 'PNG', width: 200, height: 121 })), 'frame declares 200x121 but the PNG is 200x120');
  });

  it('dimensions outside the bounds', async () => {
    assert.equal(await rejection(decodeFrame(await png(16, 200), {})), 'image is 16x200; each side must be 32 to 16384 pixels');
    assert.equal(await rejection(decodeFrame(pngClaiming(20_000, 100), {})), 'image is 20000x100; each side must be 32 to 16384 pixels');
  });

  it('a pixel bomb: a tiny file declaring a huge canvas is refused before decoding', async () => {
    const bomb = pngClaiming(15_000, 15_000);
    assert.ok(bomb.length < 200);
    assert.equal(await rejection(decodeFrame(bomb, { encoding: 'PNG' })), `image is 15000x15000 = 225000000 pixels, over the limit of ${DEFAULT_FRAME_LIMITS.maxPixels}`);
  });

  it('a frame over the byte limit (50 MB against 8 MiB)', async () => {
    const huge = Buffer.concat([await jpeg(), Buffer.alloc(50_000_000)]);
    assert.equal(await rejection(decodeFrame(huge, { encoding: 'JPEG' }, { ...DEFAULT_FRAME_LIMITS, maxBytes: 8 * 1024 * 1024 })), `image is ${huge.length} bytes, over the limit of 8388608`);
  });
});

describe('frames that decode', () => {
  it('JPEG and PNG give the same 8-bit grayscale pixels (PNG losslessly)', async () => {
    const want = boardPixels(200, 120);
    const fromPng = await decodeFrame(await png(), { encoding: 'PNG', width: 200, height: 120 });
    assert.deepEqual([fromPng.width, fromPng.height, fromPng.encoding], [200, 120, 'PNG']);
    assert.ok(fromPng.gray.equals(want));
    const fromJpeg = await decodeFrame(await jpeg(), { encoding: 'JPEG', width: 200, height: 120 });
    assert.equal(fromJpeg.gray.length, want.length);
    const meanError = fromJpeg.gray.reduce((s, v, k) => s + Math.abs(v - want[k]), 0) / want.length;
    assert.ok(meanError < 12, `JPEG decodes far from its source: mean |error| ${meanError}`);
  });

  it('colour with alpha and 16-bit PNGs become one 8-bit channel', async () => {
    const rgba = await sharp({ create: { width: 64, height: 48, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
    const a = await decodeFrame(rgba, { encoding: 'PNG' });
    assert.equal(a.gray.length, 64 * 48);
    const deep = await gray(64, 48).toColourspace('grey16').png().toBuffer();
    const b = await decodeFrame(deep, { encoding: 'PNG' });
    assert.equal(b.gray.length, 64 * 48);
    assert.ok(b.gray.equals(boardPixels(64, 48)), '16-bit gray does not come back as the 8-bit source');
  });

  it('sniffEncoding reads the signature, not the declaration', async () => {
    assert.equal(sniffEncoding(await jpeg()), 'JPEG');
    assert.equal(sniffEncoding(await png()), 'PNG');
    assert.equal(sniffEncoding(Buffer.from([0x47, 0x49, 0x46, 0x38])), null);
  });
});

describe('model input', () => {
  it('a frame at the model size goes in unchanged, as pixel / 255', async () => {
    const frame = await decodeFrame(await png(64, 48), {});
    const input = await modelInput(frame, { width: 64, height: 48 });
    assert.equal(input.length, 64 * 48);
    assert.ok(input.every((v, k) => v === Math.fround(frame.gray[k] / 255)));
  });

  it('another size is resized to the model size (aspect ignored), values in [0, 1]', async () => {
    const frame = await decodeFrame(await png(200, 120), {});
    const input = await modelInput(frame, { width: 64, height: 64 });
    assert.equal(input.length, 64 * 64);
    assert.ok(input.every((v) => v >= 0 && v <= 1));
    const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, v) => s + v, 0) / xs.length;
    assert.ok(Math.abs(mean(input) - mean(frame.gray) / 255) < 0.02, 'resizing changed the mean brightness');
  });
});
