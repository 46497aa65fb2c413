// Camera frames for the vision tests: board-like images made with sharp (so the tests run without
// ../shared), and every kind of bad frame the issue names with the dead letter it must become.
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { CameraFrame } from '../../schemas/generated/types.ts';
import type { FailureStage } from '../runtime/errors.ts';

/** A board-like 8-bit image: diagonal traces and pads on a flat background. */
export function boardPixels(width: number, height: number, seed = 0): Buffer {
  const px = Buffer.alloc(width * height, 200);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x + 2 * y + seed) % 37 < 9 || ((x + seed) * y) % 101 < 3) px[y * width + x] = 30;
  return px;
}

export function boardJpeg(width: number, height: number, seed = 0): Promise<Buffer> {
  return sharp(boardPixels(width, height, seed), { raw: { width, height, channels: 1 } }).jpeg({ quality: 90 }).toBuffer();
}

export function boardPng(width: number, height: number, seed = 0): Promise<Buffer> {
  return sharp(boardPixels(width, height, seed), { raw: { width, height, channels: 1 } }).png().toBuffer();
}

/** A PNG claiming `width` x `height` with 1 KB of pixel data behind it: a pixel bomb's header. */
export function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grayscale, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1024))), chunk('IEND', Buffer.alloc(0))]);
}

/** A CameraFrame for `image`, its width/height/encoding read from the bytes unless given. */
export function frame(camera: string, frameId: string, image: Buffer, over: Partial<CameraFrame> = {}): CameraFrame {
  const isPng = image[0] === 0x89;
  const size = isPng ? { width: image.readUInt32BE(16), height: image.readUInt32BE(20) } : jpegSize(image);
  return { frame_id: frameId, camera_id: camera, line_id: 'line-test', captured_at: Date.UTC(2026, 11, 5, 12), ...size, encoding: isPng ? 'PNG' : 'JPEG', image, template_id: null, ...over };
}

/** Width and height from a JPEG's SOF marker (0, 0 when there is none). */
function jpegSize(jpeg: Buffer): { width: number; height: number } {
  for (let i = 2; i + 9 < jpeg.length; ) {
    if (jpeg[i] !== 0xff) return { width: 0, height: 0 };
    const marker = jpeg[i + 1];
    if (marker >= 0xc0 && marker <= 0xc3) return { width: jpeg.readUInt16BE(i + 7), height: jpeg.readUInt16BE(i + 5) };
    i += 2 + jpeg.readUInt16BE(i + 2);
  }
  return { width: 0, height: 0 };
}

export interface BadFrame {
  kind: string;
  frame: CameraFrame;
  stage: FailureStage;
  errorClass: string;
  reason: RegExp;
}

/** 50 MB: far over vision.frames.v1's 8 MiB; it reaches a consumer only gzip-compressed. */
export const FIFTY_MB = 50 * 1000 * 1000;

/** Every bad frame of the issue (and a few more), in a fixed order, with what must become of it. */
export async function badFrames(camera: string, options: { include50Mb?: boolean } = {}): Promise<BadFrame[]> {
  const jpeg = await boardJpeg(640, 640, 11);
  const rejected = (kind: string, f: CameraFrame, reason: RegExp): BadFrame => ({ kind, frame: f, stage: 'processing', errorClass: 'RecordRejectedError', reason });
  const list: BadFrame[] = [
    rejected('empty-image', frame(camera, 'bad-empty', Buffer.alloc(0), { width: 640, height: 640, encoding: 'JPEG' }), /^image is empty \(0 bytes\)$/),
    rejected('corrupt-jpeg', frame(camera, 'bad-corrupt', jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), { width: 640, height: 640 }), /^corrupt JPEG: .*premature end/),
    rejected('png-declared-jpeg', frame(camera, 'bad-png-as-jpeg', await boardPng(640, 640, 12), { encoding: 'JPEG' }), /^encoding says JPEG but the image bytes are a PNG$/),
    rejected('wrong-size', frame(camera, 'bad-size', jpeg, { width: 1024, height: 768 }), /^frame declares 1024x768 but the JPEG is 640x640$/),
    rejected('too-small', frame(camera, 'bad-tiny', await boardPng(16, 16)), /^image is 16x16; each side must be 32 to 16384 pixels$/),
    rejected('pixel-bomb', frame(camera, 'bad-bomb', pngClaiming(15_000, 15_000)), /^image is 15000x15000 = 225000000 pixels, over the limit of 40000000$/),
    rejected('not-an-image', frame(camera, 'bad-garbage', Buffer.from('GIF89a but really nothing'), { width: 640, height: 640, encoding: 'JPEG' }), /^image is neither JPEG nor PNG \(first bytes 47 49 46 38 39 61 20 62\); encoding says JPEG$/),
    { kind: 'empty-frame-id', frame: frame(camera, '', jpeg), stage: 'validation', errorClass: 'ValidationError', reason: /frame_id must be 1-128 characters, got 0/ },
  ];
  if (options.include50Mb !== false) {
    list.push({
      kind: 'frame-50mb',
      frame: frame(camera, 'bad-50mb', Buffer.concat([jpeg, Buffer.alloc(FIFTY_MB - jpeg.length)]), { width: 640, height: 640 }),
      stage: 'decode',
      errorClass: 'RecordTooLargeError',
      reason: /is over vision\.frames\.v1's max\.message\.bytes of 8388608/,
    });
  }
  return list;
}
