// The maintenance scorer as the runtime serves it from the model registry: one model slot per plant
// model of the scoring plan (the default plant's and each profiled plant's, by registered name =
// model-meta.json model_name), and a build that makes the scorer from the slots' directories. The
// committed directories give exactly the scorer that `maintenanceScorer(failureModelDeclaration())`
// gives (served.test.ts), so a checkout without a registry serves what it always did.
import { dirname, resolve } from 'node:path';
import { defaultPlantRegistry, type PlantRegistry } from '../../schemas/factory/plant-registry.ts';
import type { ServedProcessor } from '../runtime/served-processor.ts';
import { DEFAULT_ARTIFACTS_DIR, failureModelDeclaration } from './model.ts';
import { plantScoringPlan } from './plant-scoring.ts';
import { maintenanceScorer } from './topology.ts';

export function servedMaintenanceScorer(registry: PlantRegistry = defaultPlantRegistry(), defaultDir: string = DEFAULT_ARTIFACTS_DIR): ServedProcessor {
  const committed = plantScoringPlan(registry, failureModelDeclaration(defaultDir));
  const slots = committed.scorings.map((s) => ({ name: s.model.name, committedDir: dirname(s.model.spec.file) }));
  const defaultSlot = slots[committed.scorings.findIndex((s) => s.isDefault)];
  // The plan names a plant's model by its committed directory; the slot of that directory says which one serves.
  const slotOfDir = new Map(slots.map((s) => [resolve(s.committedDir), s.name]));
  return {
    name: 'maintenance-scorer',
    slots,
    build(dirs) {
      const dirOf = (slot: string) => {
        const dir = dirs[slot];
        if (!dir) throw new Error(`maintenance-scorer: no directory for model slot ${slot} (slots: ${slots.map((s) => s.name).join(', ')})`);
        return dir;
      };
      const served = (committedDir: string) => {
        const slot = slotOfDir.get(resolve(committedDir));
        return slot ? dirOf(slot) : committedDir;
      };
      return maintenanceScorer(plantScoringPlan(registry, failureModelDeclaration(dirOf(defaultSlot.name)), served), registry);
    },
  };
}
