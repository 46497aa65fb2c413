// The MLmodel file of a registered version: MLflow's own descriptor, so its UI shows the signature
// (inputs and outputs) of every streamscore model. The flavor is streamscore's: the folder is loaded
// by the pipeline's loader, not by an MLflow flavor.
import type { TensorSignature } from '../models.ts';
import type { MlflowSignatureEntry, ModelDescription } from './model-kind.ts';

/** ONNX tensors as MLflow tensor specs: a symbolic dimension (the batch 'N') is -1. */
export function tensorEntries(tensors: Record<string, TensorSignature>): MlflowSignatureEntry[] {
  return Object.entries(tensors).map(([name, t]) => ({ name, type: 'tensor', 'tensor-spec': { dtype: t.type, shape: t.shape.map((d) => (typeof d === 'number' ? d : -1)) } }));
}

/** A YAML scalar in single quotes (the JSON texts MLflow stores under signature: are quoted this way). */
const quoted = (text: string) => `'${text.replace(/'/g, "''")}'`;

export function mlmodelText(d: ModelDescription, o: { runId: string; createdAt: Date; files: Record<string, string> }): string {
  return [
    'artifact_path: model',
    'flavors:',
    '  streamscore:',
    `    kind: ${d.kind}`,
    `    processor: ${d.processor}`,
    `    model_name: ${quoted(d.name)}`,
    `    model_version: ${quoted(d.modelVersion)}`,
    ...(d.spec ? [`    onnx_file: ${quoted(d.spec.file.split('/').pop() ?? '')}`] : []),
    `    files: ${Object.keys(o.files).length}`,
    `run_id: ${o.runId}`,
    'signature:',
    `  inputs: ${quoted(JSON.stringify(d.signature.inputs))}`,
    `  outputs: ${quoted(JSON.stringify(d.signature.outputs))}`,
    `utc_time_created: ${quoted(o.createdAt.toISOString().replace('T', ' ').replace('Z', ''))}`,
    '',
  ].join('\n');
}
