// Injected drift for the plant simulator (issue #12): from `startAtMs` after the simulation's start,
// one channel of every arm is shifted (`offset`, in the channel's unit) and/or scaled (`scale`),
// at once or ramped in linearly over `rampMs`. Drift is applied after the arm's own physics, so the
// arm's failures and disturbances are the same as without it: only what the sensors say moves, as
// with a recalibrated sensor, a new supplier's part or a hotter hall.
import type { ArmSample } from './plant-arm.ts';
import { OptionError, parseDuration } from './options.ts';

export type DriftChannel = keyof ArmSample;
export const DRIFT_CHANNELS: readonly DriftChannel[] = ['vibration', 'temperature', 'pressure'];

export interface SimulatorDrift {
  channel: DriftChannel;
  /** Milliseconds of simulated time after the start when the drift begins. */
  startAtMs: number;
  /** Added to the value (channel units), e.g. +4 degC. */
  offset?: number;
  /** Multiplies the value, e.g. 1.1. */
  scale?: number;
  /** The drift grows linearly to full size over this long (0: a step). */
  rampMs?: number;
}

export function driftProblems(drifts: readonly SimulatorDrift[]): string[] {
  const problems: string[] = [];
  drifts.forEach((d, i) => {
    const at = `drift[${i}]`;
    if (!DRIFT_CHANNELS.includes(d.channel)) problems.push(`${at}.channel must be one of ${DRIFT_CHANNELS.join(', ')}, got ${JSON.stringify(d.channel)}`);
    if (!(Number.isFinite(d.startAtMs) && d.startAtMs >= 0)) problems.push(`${at}.startAtMs must be >= 0, got ${d.startAtMs}`);
    if (d.offset === undefined && d.scale === undefined) problems.push(`${at} needs an offset or a scale`);
    if (d.offset !== undefined && !Number.isFinite(d.offset)) problems.push(`${at}.offset must be a number, got ${d.offset}`);
    if (d.scale !== undefined && !(Number.isFinite(d.scale) && d.scale > 0)) problems.push(`${at}.scale must be > 0, got ${d.scale}`);
    if (d.rampMs !== undefined && !(Number.isFinite(d.rampMs) && d.rampMs >= 0)) problems.push(`${at}.rampMs must be >= 0, got ${d.rampMs}`);
  });
  return problems;
}

/** Applies every drift active at `t` (simulation started at `start`) to one arm's sample, in place. */
export function applyDrift(drifts: readonly SimulatorDrift[], start: number, t: number, s: ArmSample): void {
  for (const d of drifts) {
    const since = t - start - d.startAtMs;
    if (since < 0) continue;
    const share = d.rampMs ? Math.min(1, since / d.rampMs) : 1;
    s[d.channel] = s[d.channel] * (1 + ((d.scale ?? 1) - 1) * share) + (d.offset ?? 0) * share;
  }
}

/**
 * `--drift` of `simulate` and `gateway simulate`: comma-separated CHANNEL:CHANGE@START[/RAMP], where
 * CHANGE is +4 / -0.5 (offset) or x1.1 (scale), START and RAMP durations after the start, e.g.
 * `temperature:+4@2h` or `temperature:+4@2h/30m,pressure:x0.9@1d`.
 */
export function parseDriftOption(raw: string): SimulatorDrift[] {
  return raw.split(',').map((part) => {
    const m = /^([a-z]+):([+-]\d+(?:\.\d+)?|x\d+(?:\.\d+)?)@([^/]+)(?:\/(.+))?$/.exec(part.trim());
    if (!m) throw new OptionError(`--drift ${JSON.stringify(part)} is not CHANNEL:CHANGE@START[/RAMP] (e.g. temperature:+4@2h, pressure:x0.9@1d/6h)`);
    const [, channel, change, start, ramp] = m;
    const d: SimulatorDrift = { channel: channel as DriftChannel, startAtMs: parseDuration('drift', start) };
    if (change.startsWith('x')) d.scale = Number(change.slice(1));
    else d.offset = Number(change);
    if (ramp !== undefined) d.rampMs = parseDuration('drift', ramp);
    const problems = driftProblems([d]);
    if (problems.length) throw new OptionError(`--drift ${JSON.stringify(part)}: ${problems.map((p) => p.replace('drift[0]', '')).join('; ')}`);
    return d;
  });
}
