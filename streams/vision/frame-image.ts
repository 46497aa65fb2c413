// Camera frame bytes -> validated grayscale pixels and the model's input tensor, with sharp
// (libvips). Every way a frame can be unusable ends in a FrameRejectedError whose message is the
// reason a person reads in the dead letter or in `vision inspect`'s output.
import sharp, { type Metadata } from 'sharp';

/** Why a frame cannot be inspected: the frame's fault, so retrying never helps. */
export class FrameRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameRejectedError';
  }
}

export type ImageEncoding = 'JPEG' | 'PNG';

export interface FrameLimits {
  /** Encoded size; a frame on Kafka is already bounded by the topic's max.message.bytes. */
  maxBytes: number;
  /** Decoded pixels (width x height): a small PNG can declare a huge canvas (a pixel bomb). */
  maxPixels: number;
  minSide: number;
  maxSide: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  maxBytes: 64 * 1024 * 1024,
  // 40 MP: above the largest line-scan inspection cameras in use, and 40 MB of 8-bit gray per worker.
  maxPixels: 40_000_000,
  // Below 32 px a 320x320 model input is all interpolation; above 16384 px per side is no camera.
  minSide: 32,
  maxSide: 16_384,
};

/** What a frame claims about itself (CameraFrame fields); absent for a plain file. */
export interface DeclaredFrame {
  encoding?: ImageEncoding;
  width?: number;
  height?: number;
}

export interface DecodedFrame {
  /** 8-bit grayscale, row-major, width x height. */
  gray: Buffer;
  width: number;
  height: number;
  encoding: ImageEncoding;
}

const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The format the bytes actually are, from their signature; null when neither JPEG nor PNG. */
export function sniffEncoding(bytes: Uint8Array): ImageEncoding | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.subarray(0, 3).equals(JPEG_MAGIC)) return 'JPEG';
  if (b.subarray(0, 8).equals(PNG_MAGIC)) return 'PNG';
  return null;
}

/** libvips repeats each warning per pass; one line of each, joined. */
function vipsReason(err: unknown): string {
  const lines = String((err as Error)?.message ?? err)
    .split('\n')
    .map((l) => l.replace(/\b(Vips\w*|vips\w*):\s*/g, '').replace(/^Input buffer has corrupt header:?\s*$/i, 'corrupt header').replace(/^Input buffer has /i, '').trim());
  return [...new Set(lines.filter(Boolean))].join('; ') || 'cannot be decoded';
}

/**
 * Decodes and validates a frame: not empty, JPEG or PNG as declared, dimensions within limits and
 * equal to the declared ones, pixel data intact (libvips' strictest level: a corrupt JPEG segment
 * fails instead of decoding to grey garbage). Returns 8-bit grayscale at the frame's full size.
 */
export async function decodeFrame(bytes: Uint8Array, declared: DeclaredFrame = {}, limits: FrameLimits = DEFAULT_FRAME_LIMITS): Promise<DecodedFrame> {
  if (bytes.byteLength === 0) throw new FrameRejectedError('image is empty (0 bytes)');
  if (bytes.byteLength > limits.maxBytes) throw new FrameRejectedError(`image is ${bytes.byteLength} bytes, over the limit of ${limits.maxBytes}`);
  const actual = sniffEncoding(bytes);
  if (actual === null) {
    const head = Buffer.from(bytes.subarray(0, 8)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
    throw new FrameRejectedError(`image is neither JPEG nor PNG (first bytes ${head})${declared.encoding ? `; encoding says ${declared.encoding}` : ''}`);
  }
  if (declared.encoding && declared.encoding !== actual) throw new FrameRejectedError(`encoding says ${declared.encoding} but the image bytes are a ${actual}`);
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let meta: Metadata;
  try {
    // The header only: dimensions are checked here, with a clear reason, before any pixel is decoded.
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new FrameRejectedError(`corrupt ${actual}: ${vipsReason(err)}`);
  }
  const { width = 0, height = 0 } = meta;
  if (width * height > limits.maxPixels) throw new FrameRejectedError(`image is ${width}x${height} = ${width * height} pixels, over the limit of ${limits.maxPixels}`);
  if (Math.min(width, height) < limits.minSide || Math.max(width, height) > limits.maxSide) {
    throw new FrameRejectedError(`image is ${width}x${height}; each side must be ${limits.minSide} to ${limits.maxSide} pixels`);
  }
  if ((declared.width !== undefined && declared.width !== width) || (declared.height !== undefined && declared.height !== height)) {
    throw new FrameRejectedError(`frame declares ${declared.width}x${declared.height} but the ${actual} is ${width}x${height}`);
  }
  try {
    const { data, info } = await sharp(input, { failOn: 'warning', limitInputPixels: limits.maxPixels })
      .removeAlpha()
      .grayscale()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 || info.width !== width || info.height !== height) {
      throw new Error(`decoded to ${info.width}x${info.height} with ${info.channels} channels`);
    }
    return { gray: data, width, height, encoding: actual };
  } catch (err) {
    throw new FrameRejectedError(`corrupt ${actual}: ${vipsReason(err)}`);
  }
}

/**
 * The model input: the frame resized to the model's size (aspect ignored, Lanczos-3 as in
 * training), pixel / 255, as a float32 [1, 1, height, width] buffer.
 */
export async function modelInput(frame: DecodedFrame, size: { width: number; height: number }): Promise<Float32Array> {
  // A frame already at the model's size (DeepPCB's 640x640) goes in untouched, exactly as in training.
  const resized =
    frame.width === size.width && frame.height === size.height
      ? frame.gray
      : await sharp(frame.gray, { raw: { width: frame.width, height: frame.height, channels: 1 } })
          .resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3' })
          .raw({ depth: 'uchar' })
          .toBuffer();
  const input = new Float32Array(size.width * size.height);
  for (let k = 0; k < input.length; k++) input[k] = resized[k] / 255;
  return input;
}
