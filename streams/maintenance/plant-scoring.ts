// Which model scores which plant (issue #11). Every plant with a profile is scored by its own model
// (the profile's model.artifacts, trained by `streamscore plant train`), with its own feature spec,
// regimes, horizon and alert rules; a profile without a trained model leaves its plant unscored
// (never scored by another plant's model). Plants without a profile — gateways that predate
// profiles and send the three legacy channels — are scored by the default entry: the simulator
// plant's profile and model, as before profiles existed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlantChannel, PlantProfile } from '../../schemas/factory/plant-profile.ts';
import type { PlantRegistry } from '../../schemas/factory/plant-registry.ts';
import type { HysteresisRules } from './alert-hysteresis.ts';
import { SIMULATOR_PROFILE, featureSpecOf, type FeatureSpec } from './features.ts';
import { failureModelDeclaration, type FailureModelDeclaration } from './model.ts';
import { normaliseReading, parseRegimes, type Regimes } from './regimes.ts';
import type { WindowReading } from './rolling-windows.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { channelOf } from '../../schemas/factory/sensor-reading-rules.ts';

/** A profile's model.artifacts is relative to the repository root. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface PlantScoring {
  /** The profile's plant; the default entry serves its own plant and every plant without a profile. */
  plantId: string;
  isDefault: boolean;
  spec: FeatureSpec;
  model: FailureModelDeclaration;
  regimes: Regimes | null;
  horizonHours: number;
  rules: HysteresisRules;
  /** Label and unit per channel name, for the explanations. */
  channels: ReadonlyMap<string, PlantChannel>;
  /** State store names: the default entry keeps `windows`/`alerts` (existing state stays valid). */
  windowsStore: string;
  alertsStore: string;
}

export interface PlantScoringPlan {
  scorings: PlantScoring[];
  /** Plants with a profile but no model to serve them, and why. */
  unserved: { plantId: string; reason: string }[];
}

export function hysteresisRules(model: Pick<FailureModelDeclaration, 'meta'>): HysteresisRules {
  return {
    threshold: model.meta.threshold,
    // Three scores in a row: on held-out arms this catches more failures (39 of 52 vs 37) with
    // 124 false raises instead of 412 (models/maintenance/MODEL_CARD.md, alert analysis).
    raiseAfter: Number(model.meta.raise_after ?? 3),
    clearThreshold: model.meta.clear_threshold,
    clearAfter: Number(model.meta.clear_after ?? 3),
    cooldownMs: Number(model.meta.cooldown_ms ?? 30 * 60_000),
  };
}

export function plantScoring(profile: PlantProfile, model: FailureModelDeclaration, isDefault: boolean): PlantScoring {
  const regimes = model.meta.regimes ? parseRegimes(model.meta.regimes, `${model.name} model-meta.json regimes`) : null;
  if (profile.features.regimes && !regimes) throw new Error(`model ${model.name} ${model.version} has no regimes, but plant ${profile.plant_id} normalises by regime`);
  return {
    plantId: profile.plant_id,
    isDefault,
    spec: featureSpecOf(profile),
    model,
    regimes,
    horizonHours: Math.round(profile.label.horizon_ms / 3_600_000),
    rules: hysteresisRules(model),
    channels: new Map(profile.channels.map((c) => [c.name, c])),
    windowsStore: isDefault ? 'windows' : `windows:${profile.plant_id}`,
    alertsStore: isDefault ? 'alerts' : `alerts:${profile.plant_id}`,
  };
}

/**
 * The scoring plan of a registry: the default entry (the simulator profile with `defaultModel`)
 * and one entry per other profile whose artifacts hold a trained model.
 */
export function plantScoringPlan(registry: PlantRegistry, defaultModel: FailureModelDeclaration, servedDir: (committedDir: string) => string = (dir) => dir): PlantScoringPlan {
  const defaultProfile = registry.profile(SIMULATOR_PROFILE.plant_id) ?? SIMULATOR_PROFILE;
  const scorings = [plantScoring(defaultProfile, defaultModel, true)];
  const unserved: PlantScoringPlan['unserved'] = [];
  for (const plantId of registry.plantIds) {
    if (plantId === defaultProfile.plant_id) continue;
    const profile = registry.profile(plantId)!;
    const dir = join(REPO_ROOT, profile.model.artifacts);
    if (!existsSync(join(dir, 'model-meta.json'))) {
      unserved.push({ plantId, reason: `no trained model in ${profile.model.artifacts} (streamscore plant train --profile ...)` });
      continue;
    }
    // `servedDir`: the registry's version of this plant's model, when the runtime resolved one (served.ts).
    scorings.push(plantScoring(profile, failureModelDeclaration(servedDir(dir), featureSpecOf(profile).names), false));
  }
  const names = scorings.map((s) => s.model.name);
  const clash = names.find((n, i) => names.indexOf(n) !== i);
  if (clash) throw new Error(`two plants' models are both named ${clash}: a processor names each model once`);
  return { scorings, unserved };
}

/**
 * What the rolling windows get of a validated reading (the stream's and the scoring API's one
 * conversion): its channel, and its value normalised within its regime when the plant has regimes.
 */
export function windowReadingOf(r: SensorReading, offset: number, regimes: Regimes | null): WindowReading {
  // Validated: a reading without a channel name (OTHER and none given) never gets here.
  const channel = channelOf(r) ?? r.sensor.toLowerCase();
  return { arm: r.arm_id, sensor: r.sensor, channel, value: normaliseReading(r, channel, regimes), eventTime: r.event_time, offset };
}
