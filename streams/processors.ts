// Every processor the CLI can run, by name. Loaded lazily so `streamscore run X` imports only X.
// Each is a ServedProcessor: its model slots (registered model names) and a build from the slots'
// directories, so the runtime serves NAME@champion from the registry and swaps when the alias moves
// (served-processor.ts); `build(committedDirs(p))` is the processor as committed (`--describe`).
import type { ServedProcessor } from './runtime/served-processor.ts';
import { fixedProcessor } from './runtime/served-processor.ts';

export const PROCESSORS: Record<string, { summary: string; load: () => Promise<ServedProcessor> }> = {
  'sensor-validation': {
    summary: 'factory.sensor-readings.v1 -> validated readings (+ DLQ), exactly-once',
    load: async () => fixedProcessor((await import('./sensor-validation/topology.ts')).sensorValidation),
  },
  'maintenance-scorer': {
    summary: 'validated readings -> windows (Redis) -> LightGBM/ONNX -> predictions + alerts with TreeSHAP, exactly-once',
    // The ONNX graphs are declared, not loaded here: the runtime loads them (and `--describe` lists them).
    load: async () => (await import('./maintenance/served.ts')).servedMaintenanceScorer(),
  },
  'maintenance-outcomes': {
    summary: 'maintenance alerts + predictions + failure events (delayed labels) -> TP/FP/FN per arm (Redis) -> models.performance.v1 precision/recall per model version per day, at-least-once',
    // No model slot: it judges the versions the scorer served, by the names on their alerts.
    load: async () => {
      const { maintenanceOutcomes, outcomesOptionsFromEnv } = await import('./maintenance-outcomes/topology.ts');
      return fixedProcessor(maintenanceOutcomes(outcomesOptionsFromEnv()));
    },
  },
  'vision-qc': {
    summary: 'vision.frames.v1 -> decode (sharp) -> PCB QC CNN + Grad-CAM (ONNX, worker pool) -> vision.qc-results.v1, at-least-once',
    load: async () => {
      const [{ visionQc, visionQcOptionsFromEnv }, { visionModelSpec, DEFAULT_VISION_MODEL_DIR }] = await Promise.all([import('./vision/topology.ts'), import('./vision/model.ts')]);
      const options = visionQcOptionsFromEnv();
      const name = visionModelSpec().name;
      return { name: 'vision-qc', slots: [{ name, committedDir: DEFAULT_VISION_MODEL_DIR }], build: (dirs) => visionQc(visionModelSpec(dirs[name]), options) };
    },
  },
  documents: {
    summary: 'docs.uploads.v1 -> PDF text layer or OCR per page (worker pool) -> legal NER (ONNX) -> rules -> docs.entities.v1 (+ review topic), at-least-once',
    load: async () => {
      const [{ documentsProcessor }, { nerModelSpec, DEFAULT_NER_MODEL_DIR }, { blobStoreFromEnv }] = await Promise.all([import('./documents/topology.ts'), import('./documents/ner/model.ts'), import('./documents/blob-store.ts')]);
      const blobs = blobStoreFromEnv();
      const name = nerModelSpec().name;
      return { name: 'documents', slots: [{ name, committedDir: DEFAULT_NER_MODEL_DIR }], build: (dirs) => documentsProcessor(nerModelSpec(dirs[name]), blobs) };
    },
  },
};
