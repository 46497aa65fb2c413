// Every processor the CLI can run, by name. Loaded lazily so `streamscore run X` imports only X.
import type { ProcessorDefinition } from './runtime/processor.ts';

export const PROCESSORS: Record<string, { summary: string; load: () => Promise<ProcessorDefinition> }> = {
  'sensor-validation': {
    summary: 'factory.sensor-readings.v1 -> validated readings (+ DLQ), exactly-once',
    load: async () => (await import('./sensor-validation/topology.ts')).sensorValidation,
  },
  'maintenance-scorer': {
    summary: 'validated readings -> windows (Redis) -> LightGBM/ONNX -> predictions + alerts with TreeSHAP, exactly-once',
    // The ONNX graph is declared, not loaded here: the runtime loads it (and `--describe` lists it).
    load: async () => {
      const [{ maintenanceScorer }, { failureModelDeclaration }] = await Promise.all([import('./maintenance/topology.ts'), import('./maintenance/model.ts')]);
      return maintenanceScorer(failureModelDeclaration());
    },
  },
  'vision-qc': {
    summary: 'vision.frames.v1 -> decode (sharp) -> PCB QC CNN + Grad-CAM (ONNX, worker pool) -> vision.qc-results.v1, at-least-once',
    load: async () => {
      const [{ visionQc, visionQcOptionsFromEnv }, { visionModelSpec }] = await Promise.all([import('./vision/topology.ts'), import('./vision/model.ts')]);
      return visionQc(visionModelSpec(), visionQcOptionsFromEnv());
    },
  },
  documents: {
    summary: 'docs.uploads.v1 -> PDF text layer or OCR per page (worker pool) -> legal NER (ONNX) -> rules -> docs.entities.v1 (+ review topic), at-least-once',
    load: async () => {
      const [{ documentsProcessor }, { nerModelSpec }, { blobStoreFromEnv }] = await Promise.all([import('./documents/topology.ts'), import('./documents/ner/model.ts'), import('./documents/blob-store.ts')]);
      return documentsProcessor(nerModelSpec(), blobStoreFromEnv());
    },
  },
};
