// Where a camera's pictures come from. A FrameSource is asked for camera c's k-th picture when the
// camera triggers; it returns the encoded image (JPEG or PNG, as CameraFrame carries them) or null
// when it has no more (the end of a folder played once).
//   - DeepPcbLine: a line of boards, a share of them defective, every shot with the line's jitter
//     (line-jitter.ts), re-encoded as JPEG by sharp;
//   - FolderSequence: the files of a folder in order, sent as they are (JPEG/PNG) or converted to PNG.
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { Rng, mixSeed } from '../../streams/runtime/random.ts';
import { CameraJitter, DEFAULT_JITTER, applyJitter, type JitterLimits, type RawImage } from './line-jitter.ts';
import type { DeepPcbImage } from './image-files.ts';

export interface CapturedImage {
  image: Buffer;
  encoding: 'JPEG' | 'PNG';
  width: number;
  height: number;
  /** The golden image of the part, when the source knows one. */
  templateId: string | null;
  /** What the source knows the board to be (simulated lines); null for real pictures. */
  truth: 'PASS' | 'DEFECT' | null;
  /** The file the picture came from. */
  source: string;
}

export interface FrameSource {
  capture(camera: number, index: number): Promise<CapturedImage | null>;
}

/** A picture that cannot be sent (unreadable, too large): the camera skips it and goes on. */
export class UnusableImageError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'UnusableImageError';
    this.path = path;
  }
}

export interface DeepPcbLineOptions {
  cameras: number;
  /** Share of boards that are defective, 0..1. */
  defectRate: number;
  seed: number;
  jitter?: JitterLimits;
  /** JPEG quality of the re-encoded frames (default 90, a typical inspection-camera setting). */
  jpegQuality?: number;
  /** Decoded source images kept in memory (default 128 MiB); each DeepPCB image is 400 KiB raw. */
  cacheBytes?: number;
}

export class DeepPcbLine implements FrameSource {
  private readonly images: { pass: DeepPcbImage[]; defect: DeepPcbImage[] };
  private readonly o: DeepPcbLineOptions;
  private readonly picks: Rng[];
  private readonly jitters: CameraJitter[];
  private readonly cache: DecodedImageCache;

  constructor(images: { pass: DeepPcbImage[]; defect: DeepPcbImage[] }, o: DeepPcbLineOptions) {
    if (!(o.defectRate >= 0 && o.defectRate <= 1)) throw new RangeError(`defect rate must be in 0..1, got ${o.defectRate}`);
    if (images.pass.length + images.defect.length === 0) throw new RangeError('no images to replay');
    this.images = images;
    this.o = o;
    this.picks = Array.from({ length: o.cameras }, (_, c) => new Rng(mixSeed(o.seed, 0x9c8, c)));
    this.jitters = Array.from({ length: o.cameras }, (_, c) => new CameraJitter(o.seed, c, o.jitter ?? DEFAULT_JITTER));
    this.cache = new DecodedImageCache(o.cacheBytes ?? 128 * 1024 * 1024);
  }

  async capture(camera: number): Promise<CapturedImage> {
    // Every random draw happens before the first await, so a camera's k-th frame does not depend
    // on how its captures interleave.
    const rng = this.picks[camera];
    const wantDefect = rng.uniform() < this.o.defectRate;
    const pool = (wantDefect && this.images.defect.length) || !this.images.pass.length ? this.images.defect : this.images.pass;
    const chosen = pool[Math.floor(rng.uniform() * pool.length)];
    const jitter = this.jitters[camera].next();
    const raw = await this.cache.get(chosen.path);
    const shaken = applyJitter(raw, jitter);
    // A one-channel JPEG (sharp would write sRGB): what a monochrome camera sends, and a third of the bytes.
    const image = await sharp(shaken.data, { raw: { width: shaken.width, height: shaken.height, channels: 1 } })
      .toColourspace('b-w')
      .jpeg({ quality: this.o.jpegQuality ?? 90 })
      .toBuffer();
    return { image, encoding: 'JPEG', width: raw.width, height: raw.height, templateId: chosen.templateId, truth: chosen.truth, source: chosen.path };
  }
}

/** Decoded images by path, least recently used dropped first once over the byte bound. */
class DecodedImageCache {
  private readonly entries = new Map<string, Promise<RawImage>>();
  private readonly sizes = new Map<string, number>();
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get(path: string): Promise<RawImage> {
    const hit = this.entries.get(path);
    if (hit) {
      this.entries.delete(path);
      this.entries.set(path, hit);
      return hit;
    }
    const decoding = decodeRaw(path);
    this.entries.set(path, decoding);
    decoding.then(
      (raw) => {
        if (this.entries.get(path) !== decoding) return;
        this.sizes.set(path, raw.data.length);
        this.bytes += raw.data.length;
        this.evict();
      },
      () => this.entries.delete(path),
    );
    return decoding;
  }

  private evict(): void {
    for (const [path] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      const size = this.sizes.get(path);
      if (size === undefined) continue; // still decoding
      this.entries.delete(path);
      this.sizes.delete(path);
      this.bytes -= size;
    }
  }
}

async function decodeRaw(path: string): Promise<RawImage> {
  try {
    // An inspection camera is monochrome (DeepPCB comes from a line-scan CCD; a few of its files are
    // stored as RGB): every frame is one grey channel.
    const { data, info } = await sharp(path).greyscale().raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    throw new UnusableImageError(path, `not a readable image (${(err as Error).message})`);
  }
}

export interface FolderSequenceOptions {
  files: string[];
  /** Start again at the first file after the last (default: stop). */
  loop: boolean;
  /** Largest encoded image that may be sent (the frames topic's limit minus the record's other fields). */
  maxImageBytes: number;
}

export class FolderSequence implements FrameSource {
  private readonly o: FolderSequenceOptions;

  constructor(o: FolderSequenceOptions) {
    if (o.files.length === 0) throw new RangeError('a folder sequence needs at least one file');
    this.o = o;
  }

  async capture(_camera: number, index: number): Promise<CapturedImage | null> {
    if (!this.o.loop && index >= this.o.files.length) return null;
    const path = this.o.files[index % this.o.files.length];
    let bytes: Buffer;
    let meta: Metadata;
    try {
      bytes = await readFile(path);
      meta = await sharp(bytes).metadata();
    } catch (err) {
      throw new UnusableImageError(path, `not a readable image (${(err as Error).message})`);
    }
    let image = bytes;
    let encoding: 'JPEG' | 'PNG';
    if (meta.format === 'jpeg') encoding = 'JPEG';
    else if (meta.format === 'png') encoding = 'PNG';
    else {
      // CameraFrame carries JPEG or PNG; anything else is converted without loss.
      image = await sharp(bytes).png().toBuffer().catch((err: Error) => {
        throw new UnusableImageError(path, `cannot convert ${meta.format} to PNG (${err.message})`);
      });
      encoding = 'PNG';
    }
    if (meta.width === undefined || meta.height === undefined) throw new UnusableImageError(path, 'image has no size');
    if (image.length > this.o.maxImageBytes) throw new UnusableImageError(path, `${image.length} bytes is over the ${this.o.maxImageBytes} bytes a frame may carry`);
    return { image, encoding, width: meta.width, height: meta.height, templateId: null, truth: null, source: path };
  }
}
