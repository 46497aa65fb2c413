// A second version of a failure model for hot-swap tests: the same trees and graph as `from`, copied
// into `to` with another model_version (and, for a test's own registered model, another model_name)
// in its meta and drift reference, so outputs and drift monitors can tell the versions apart while
// the scores stay comparable. Only the files the scorer reads are copied (not the plots or text dump).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files a failure model directory needs to be served (failureModelDeclaration, reference.ts). */
export const SERVED_FAILURE_MODEL_FILES = ['model.onnx', 'model-meta.json', 'model-dump.json', 'reference.json'];

export function writeModelVersion(from: string, to: string, modelVersion: string, modelName?: string): string[] {
  mkdirSync(to, { recursive: true });
  const files = SERVED_FAILURE_MODEL_FILES.filter((f) => existsSync(join(from, f)));
  for (const f of files) {
    if (f === 'model-meta.json' || f === 'reference.json') {
      const json = JSON.parse(readFileSync(join(from, f), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(to, f), JSON.stringify({ ...json, model_version: modelVersion, ...(modelName ? { model_name: modelName } : {}) }));
    } else {
      copyFileSync(join(from, f), join(to, f));
    }
  }
  return files;
}
