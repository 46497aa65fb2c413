// One simulated robotic arm: its operating point, its load, its thermal state, the benign
// disturbances it meets and the degradation before each failure. `sample(t)` advances it to `t`
// and returns the three sensor values (false while it is down for repair).
//
// Each random process has its own seeded stream (failure, tool change, heavy job, recalibration,
// sensor noise), so the times of events do not depend on how often the arm is sampled.
import type { FailureMode, FailureRecord, PlantConditions, SimEvent } from './plant-simulator.ts';
import { Rng, mixSeed } from '../streams/runtime/random.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Mean times between benign disturbances per arm, and their sizes. */
const TOOL_CHANGE_MEAN_MS = 36 * HOUR_MS;
const HEAVY_JOB_MEAN_MS = 5 * DAY_MS;
const RECALIBRATION_MEAN_MS = 20 * DAY_MS;
/** Degradation lasts this long before a failure (uniform), and repair this long after it. */
const DEGRADATION_MS: [number, number] = [24 * HOUR_MS, 72 * HOUR_MS];
const REPAIR_MS: [number, number] = [3 * HOUR_MS, 8 * HOUR_MS];
/** Share of failures that are bearing wear; the rest are seal leaks. */
const BEARING_SHARE = 0.6;
/** Thermal time constant of an arm (temperature follows ambient + load with this lag). */
const THERMAL_TAU_MS = 15 * MINUTE_MS;
/** Load jitter: an Ornstein-Uhlenbeck process with this time constant and stationary std. */
const JITTER_TAU_MS = 2 * HOUR_MS;
const JITTER_STD = 0.05;

export interface ArmSample {
  vibration: number;
  temperature: number;
  pressure: number;
}

export interface ArmSetup {
  index: number;
  id: string;
  gatewayId: string;
  seed: number;
  start: number;
  intervalMs: number;
  mtbfMs: number;
  emit: (e: SimEvent) => void;
  recordFailure: (f: FailureRecord) => void;
}

export type ArmModel = ReturnType<typeof arm>;

/** Stream ids for mixSeed(seed, arm, stream). */
const STREAM = { baseline: 1, failure: 2, toolChange: 3, heavyJob: 4, recalibration: 5, noise: 6 } as const;

export function arm(setup: ArmSetup) {
  const { id, emit } = setup;
  const rng = (stream: number) => new Rng(mixSeed(setup.seed, setup.index, stream));
  const base = rng(STREAM.baseline);
  const failureRng = rng(STREAM.failure);
  const toolRng = rng(STREAM.toolChange);
  const heavyRng = rng(STREAM.heavyJob);
  const recalRng = rng(STREAM.recalibration);
  const noise = rng(STREAM.noise);

  // Operating point: vibration at mid load, temperature rise over ambient at full load, pressure.
  const vibBase = base.between(1.8, 3.6);
  const tempRise = base.between(22, 42);
  const pres0 = base.between(5.4, 7.0);
  const phaseHours = base.between(-1, 1);
  let vib0 = vibBase;
  let presOffset = 0;
  let thermal = NaN;
  let jitter = 0;
  const jitterDecay = Math.exp(-setup.intervalMs / JITTER_TAU_MS);
  const jitterStep = JITTER_STD * Math.sqrt(1 - jitterDecay * jitterDecay);
  const thermalAlpha = 1 - Math.exp(-setup.intervalMs / THERMAL_TAU_MS);

  // Failure process: the next failure, its onset of degradation and its repair are drawn together.
  let failure!: FailureRecord;
  let degradationAnnounced = false;
  let down = false;
  const scheduleFailure = (from: number) => {
    const failureTime = Math.round(from + failureRng.exponential(setup.mtbfMs));
    const mode: FailureMode = failureRng.uniform() < BEARING_SHARE ? 'bearing-wear' : 'seal-leak';
    const onset = Math.max(from, Math.round(failureTime - failureRng.between(...DEGRADATION_MS)));
    const repairedAt = Math.round(failureTime + failureRng.between(...REPAIR_MS));
    failure = { arm_id: id, failure_time: failureTime, mode, repaired_at: repairedAt, onset };
    degradationAnnounced = false;
    setup.recordFailure(failure);
  };
  scheduleFailure(setup.start);

  // Benign disturbances.
  let nextTool = setup.start + toolRng.exponential(TOOL_CHANGE_MEAN_MS);
  let toolAt = -Infinity;
  let toolAmp = 0;
  let toolTau = 1;
  let nextHeavy = setup.start + heavyRng.exponential(HEAVY_JOB_MEAN_MS);
  let heavyUntil = -Infinity;
  let nextRecal = setup.start + recalRng.exponential(RECALIBRATION_MEAN_MS);

  const advanceEvents = (t: number) => {
    while (nextTool <= t) {
      toolAt = nextTool;
      toolAmp = toolRng.between(1.5, 4);
      toolTau = toolRng.between(3, 10) * MINUTE_MS;
      nextTool += toolRng.exponential(TOOL_CHANGE_MEAN_MS);
      if (toolAt + 5 * toolTau > t) emit({ arm_id: id, kind: 'tool-change', start: Math.round(toolAt), end: Math.round(toolAt + 5 * toolTau), detail: `vibration spike +${toolAmp.toFixed(2)} mm/s` });
    }
    while (nextHeavy <= t) {
      const startAt = nextHeavy;
      const until = startAt + heavyRng.between(2, 6) * HOUR_MS;
      nextHeavy = until + heavyRng.exponential(HEAVY_JOB_MEAN_MS);
      if (until > t) {
        heavyUntil = until;
        emit({ arm_id: id, kind: 'heavy-job', start: Math.round(startAt), end: Math.round(until), detail: 'load +0.25' });
      }
    }
    while (nextRecal <= t) {
      const at = nextRecal;
      const step = recalRng.between(0.15, 0.4) * (presOffset > 0.3 ? -1 : presOffset < -0.3 ? 1 : recalRng.uniform() < 0.5 ? -1 : 1);
      nextRecal += recalRng.exponential(RECALIBRATION_MEAN_MS);
      presOffset += step;
      emit({ arm_id: id, kind: 'recalibration', start: Math.round(at), end: Math.round(at), detail: `pressure ${step > 0 ? '+' : ''}${step.toFixed(3)} bar` });
    }
  };

  return {
    id,
    gatewayId: setup.gatewayId,
    /** The arm's next reading gets this sequence number (all sensors, from 0). */
    sequence: 0,
    get vibrationBaseline() {
      return vib0;
    },
    /** Advances the arm to `t`; false while it is down (no readings). */
    sample(t: number, env: PlantConditions, out: ArmSample): boolean {
      if (down) {
        if (t < failure.repaired_at) return false;
        down = false;
        vib0 = vibBase * failureRng.between(0.92, 1.05); // new parts: close to the original operating point
        presOffset = 0;
        thermal = NaN;
        emit({ arm_id: id, kind: 'repaired', start: failure.repaired_at, end: failure.repaired_at, detail: `after ${failure.mode}` });
        scheduleFailure(failure.repaired_at);
      }
      if (t >= failure.failure_time) {
        down = true;
        emit({ arm_id: id, kind: 'failure', start: failure.failure_time, end: failure.repaired_at, detail: failure.mode });
        return t >= failure.repaired_at ? this.sample(t, env, out) : false;
      }
      if (!degradationAnnounced && t >= failure.onset) {
        degradationAnnounced = true;
        emit({ arm_id: id, kind: 'degradation', start: failure.onset, end: failure.failure_time, detail: failure.mode });
      }
      advanceEvents(t);

      // Load: daily shape (low at 04:00, high at 16:00), lower at weekends, jitter, heavy jobs.
      const shape = 0.5 - 0.5 * Math.cos((2 * Math.PI * (env.hourOfDay + phaseHours - 4)) / 24);
      jitter = jitter * jitterDecay + jitterStep * noise.normal();
      const heavy = t < heavyUntil;
      let load = (env.weekend ? 0.35 + 0.25 * shape : 0.45 + 0.4 * shape) + jitter + (heavy ? 0.25 : 0);
      load = load < 0.05 ? 0.05 : load > 1.2 ? 1.2 : load;

      // Degradation severity 0..1, accelerating towards the failure.
      let bearing = 0;
      let seal = 0;
      if (t >= failure.onset) {
        const p = (t - failure.onset) / (failure.failure_time - failure.onset);
        if (failure.mode === 'bearing-wear') bearing = p * p;
        else seal = p * p;
      }

      const sinceTool = t - toolAt;
      const toolActive = sinceTool >= 0 && sinceTool < 5 * toolTau;
      const spike = toolActive ? toolAmp * Math.exp(-sinceTool / toolTau) : 0;
      const vibMean = vib0 * (0.75 + 0.5 * load) * (1 + 0.8 * bearing) + spike;
      const vibSd = vib0 * 0.06 * (1 + 3 * bearing + (toolActive ? 1.5 : 0) + (heavy ? 0.3 : 0));
      const vib = vibMean + vibSd * noise.normal();
      out.vibration = vib < 0.05 ? 0.05 : vib;

      const target = env.ambient + tempRise * load + 8 * bearing + 2 * seal;
      thermal = Number.isNaN(thermal) ? target : thermal + (target - thermal) * thermalAlpha;
      out.temperature = thermal + 0.25 * noise.normal();

      const presMean = pres0 + presOffset + 0.4 * (load - 0.55) - 1.0 * seal;
      const pres = presMean + 0.04 * (1 + 4 * seal) * noise.normal();
      out.pressure = pres < 0 ? 0 : pres;
      return true;
    },
  };
}
