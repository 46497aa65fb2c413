// What a production line does to a camera image between two shots of the same board, so replayed
// DeepPCB frames look like a live line and not like the same file over and over:
//   - lighting: a slow drift per camera (lamps warming up, daylight through a window) plus a little
//     flicker per frame, as gain (contrast), offset (brightness) and gamma;
//   - position: the conveyor never stops a board at exactly the same place: a shift of a few pixels;
//   - sensor noise: Gaussian read noise on every pixel.
// Pure and seeded (connectors/random.ts): a camera's k-th frame is the same on every run.
import { Rng, mixSeed } from '../../streams/runtime/random.ts';

export interface JitterLimits {
  /** Largest shift in pixels, each axis (default 4). */
  maxShiftPx: number;
  /** Standard deviation of the per-pixel sensor noise, in grey levels (default 3). */
  noiseSigma: number;
  /** Largest brightness offset in grey levels, drift + flicker (default 24). */
  maxBrightness: number;
  /** Largest relative contrast change (default 0.15: gain 0.85..1.15). */
  maxContrast: number;
  /** Largest |log gamma| (default 0.2: gamma 0.82..1.22). */
  maxLogGamma: number;
}

export const DEFAULT_JITTER: JitterLimits = { maxShiftPx: 4, noiseSigma: 3, maxBrightness: 24, maxContrast: 0.15, maxLogGamma: 0.2 };
export const NO_JITTER: JitterLimits = { maxShiftPx: 0, noiseSigma: 0, maxBrightness: 0, maxContrast: 0, maxLogGamma: 0 };

export interface FrameJitter {
  dx: number;
  dy: number;
  /** Added to every level (before gamma), in grey levels. */
  brightness: number;
  /** Gain around mid-grey. */
  contrast: number;
  gamma: number;
  noiseSigma: number;
  /** Where this frame starts reading the shared noise table. */
  noiseOffset: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The jitter of one camera, frame after frame: lighting drifts as a bounded random walk. */
export class CameraJitter {
  private readonly rng: Rng;
  private readonly limits: JitterLimits;
  private driftBrightness = 0;
  private driftContrast = 0;

  constructor(seed: number, cameraIndex: number, limits: JitterLimits = DEFAULT_JITTER) {
    this.rng = new Rng(mixSeed(seed, 0xca3e7a, cameraIndex));
    this.limits = limits;
  }

  next(): FrameJitter {
    const l = this.limits;
    const r = this.rng;
    // Random walk pulled back to 0, so the drift wanders over minutes but stays inside the limits.
    this.driftBrightness = clamp(0.98 * this.driftBrightness + r.normal() * l.maxBrightness * 0.05, -0.75 * l.maxBrightness, 0.75 * l.maxBrightness);
    this.driftContrast = clamp(0.98 * this.driftContrast + r.normal() * l.maxContrast * 0.05, -0.75 * l.maxContrast, 0.75 * l.maxContrast);
    // (`+ 0` turns a -0 into 0.)
    const shift = () => clamp(Math.round(r.normal() * l.maxShiftPx * 0.4), -l.maxShiftPx, l.maxShiftPx) + 0;
    return {
      dx: shift(),
      dy: shift(),
      brightness: clamp(this.driftBrightness + r.normal() * l.maxBrightness * 0.1, -l.maxBrightness, l.maxBrightness) + 0,
      contrast: 1 + clamp(this.driftContrast + r.normal() * l.maxContrast * 0.1, -l.maxContrast, l.maxContrast),
      gamma: Math.exp(clamp(r.normal() * l.maxLogGamma * 0.4, -l.maxLogGamma, l.maxLogGamma)),
      noiseSigma: l.noiseSigma,
      noiseOffset: Math.floor(r.uniform() * NOISE_TABLE_SIZE),
    };
  }
}

/** Tone curve of one frame as a lookup table: gain around mid-grey, offset, then gamma. */
export function toneCurve(j: Pick<FrameJitter, 'brightness' | 'contrast' | 'gamma'>): Float32Array {
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    const linear = clamp(j.contrast * (v / 255 - 0.5) + 0.5 + j.brightness / 255, 0, 1);
    lut[v] = 255 * linear ** j.gamma;
  }
  return lut;
}

// Normal noise drawn once per sigma, in whole grey levels; a frame reads it from a random offset.
// Drawing 400k normals per frame would cost more than encoding the JPEG, and neighbouring frames'
// noise stays uncorrelated. Integers keep the per-pixel loop to a lookup, an add and a store.
const NOISE_TABLE_SIZE = 1 << 20;
const noiseTables = new Map<number, Int16Array>();
function noise(sigma: number): Int16Array {
  let table = noiseTables.get(sigma);
  if (table === undefined) {
    const r = new Rng(0x5e750);
    table = new Int16Array(NOISE_TABLE_SIZE);
    for (let i = 0; i < NOISE_TABLE_SIZE; i++) table[i] = Math.round(sigma * r.normal());
    noiseTables.set(sigma, table);
  }
  return table;
}

export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Applies one frame's jitter to raw interleaved pixels; edges are extended (replicated) into the shifted-in border. */
export function applyJitter(src: RawImage, j: FrameJitter): RawImage {
  const { width, height, channels, data } = src;
  const size = width * height * channels;
  if (data.length !== size) throw new Error(`raw image is ${data.length} bytes, expected ${width}x${height}x${channels}`);
  // Uint8ClampedArray clamps to 0..255 and rounds on store: no branches per pixel.
  const out = new Uint8ClampedArray(size);
  const lut = Int16Array.from(toneCurve(j), Math.round);
  const table = noise(j.noiseSigma);
  let n = j.noiseOffset;
  // Source column (times channels) of every output column, once per frame.
  const column = new Int32Array(width);
  for (let x = 0; x < width; x++) column[x] = clamp(x - j.dx, 0, width - 1) * channels;
  const rowBytes = width * channels;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const row = clamp(y - j.dy, 0, height - 1) * rowBytes;
    if (n + rowBytes > NOISE_TABLE_SIZE) n = 0; // wrap between rows, never inside one
    for (let x = 0; x < width; x++) {
      const base = row + column[x];
      for (let c = 0; c < channels; c++) out[o++] = lut[data[base + c]] + table[n++];
    }
  }
  return { data: new Uint8Array(out.buffer), width, height, channels };
}
