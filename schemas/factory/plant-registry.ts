// The plants this deployment knows: every profile in connectors/plants/ (or STREAMSCORE_PLANTS_DIR),
// read once at start. A broken profile stops the start with every problem named, rather than
// dead-lettering a plant's readings one by one later. Validation asks it for a plant's rules; a
// plant without a profile keeps the legacy three channels (every v1 gateway).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlantProfileError, loadPlantProfile, type PlantProfile } from './plant-profile.ts';
import type { PlantReadingRules } from './sensor-reading-rules.ts';

/** The profiles shipped with the repository (the simulator's among them). */
export const DEFAULT_PLANTS_DIR = fileURLToPath(new URL('../../connectors/plants/', import.meta.url));

export function plantsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STREAMSCORE_PLANTS_DIR || DEFAULT_PLANTS_DIR;
}

export class PlantRegistry {
  readonly #profiles: ReadonlyMap<string, PlantProfile>;
  readonly #rules = new Map<string, PlantReadingRules>();

  constructor(profiles: readonly PlantProfile[]) {
    const byId = new Map<string, PlantProfile>();
    const clashes: string[] = [];
    for (const p of profiles) {
      if (byId.has(p.plant_id)) clashes.push(`two profiles are for plant ${p.plant_id}`);
      byId.set(p.plant_id, p);
    }
    if (clashes.length) throw new PlantProfileError('plant registry', clashes);
    this.#profiles = byId;
    for (const p of profiles) this.#rules.set(p.plant_id, rulesOf(p));
  }

  /** Every *.json profile in `dir`; throws PlantProfileError naming the problems of every bad file. */
  static load(dir: string = plantsDir()): PlantRegistry {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    const profiles: PlantProfile[] = [];
    const problems: string[] = [];
    for (const f of files) {
      try {
        profiles.push(loadPlantProfile(join(dir, f)));
      } catch (err) {
        if (!(err instanceof PlantProfileError)) throw err;
        problems.push(...err.problems.map((p) => `${err.profile}: ${p}`));
      }
    }
    if (problems.length) throw new PlantProfileError(dir, problems);
    return new PlantRegistry(profiles);
  }

  profile(plantId: string): PlantProfile | undefined {
    return this.#profiles.get(plantId);
  }

  /** The rules a reading of this plant must keep; null when the plant has no profile. */
  rulesFor(plantId: string): PlantReadingRules | null {
    return this.#rules.get(plantId) ?? null;
  }

  get plantIds(): string[] {
    return [...this.#profiles.keys()];
  }
}

export function rulesOf(p: PlantProfile): PlantReadingRules {
  return {
    plantId: p.plant_id,
    channels: new Map(p.channels.map((c) => [c.name, { unit: c.unit, min: c.min, max: c.max, kind: c.kind }])),
    settings: (p.operating_settings ?? []).length,
    settingsRequired: p.features.regimes !== undefined,
  };
}

let loaded: PlantRegistry | null = null;
/** The registry of plantsDir(), loaded on first use (processors call it at start, so a bad profile stops the start). */
export function defaultPlantRegistry(): PlantRegistry {
  loaded ??= PlantRegistry.load();
  return loaded;
}
