// A processor whose models come from the registry: its model slots (one registered model each) and
// a pure factory that makes the ProcessorDefinition from the slots' model directories. The runtime
// resolves each slot (model-registry/resolver.ts: NAME@alias, downloaded into the artifact cache,
// or the committed directory) and builds the definition; when an alias moves it builds the next one
// and swaps between chunks (serving-set.ts). A definition captures its models when it is built
// (alert rules from the model meta, TreeSHAP trees), so swapping sessions alone would not do.
import { describeTopology, type ProcessorDefinition, type TopologyDescription } from './processor.ts';

export interface ModelSlot {
  /** The registered model's name in the registry (the model meta's model_name). */
  name: string;
  /** The directory committed in the repository: served when no registry answers for this slot. */
  committedDir: string;
}

export interface ServedProcessor {
  name: string;
  slots: ModelSlot[];
  /**
   * The definition served from these model directories, by slot name. Pure: it reads files, loads
   * no ONNX session and opens nothing, so the runtime can build a candidate and throw it away.
   */
  build(dirs: Record<string, string>): ProcessorDefinition;
}

export function isServedProcessor(p: ProcessorDefinition | ServedProcessor): p is ServedProcessor {
  return 'build' in p && 'slots' in p;
}

/** A definition that serves no registered model (or a test's fixed one): nothing to resolve or swap. */
export function fixedProcessor(def: ProcessorDefinition): ServedProcessor {
  return { name: def.name, slots: [], build: () => def };
}

/** The committed directory of every slot: what `--describe` shows and what serves without a registry. */
export function committedDirs(served: ServedProcessor): Record<string, string> {
  return Object.fromEntries(served.slots.map((s) => [s.name, s.committedDir]));
}

/**
 * Why `next` may not replace `current` while the processor runs, or null when it may: only the
 * models' versions and files (and the description, which names them) may change. Another input,
 * output, state store, semantics or model signature through a model swap would leave the state
 * and the consumers of the outputs inconsistent; that takes a deploy, not an alias move.
 */
export function topologyChange(current: ProcessorDefinition, next: ProcessorDefinition): string | null {
  const shape = (d: TopologyDescription) => ({
    ...d,
    description: '',
    models: d.models.map(({ name, inputs, outputs }) => ({ name, inputs, outputs })),
  });
  const [a, b] = [shape(describeTopology(current)), shape(describeTopology(next))];
  const differing = (Object.keys(a) as (keyof typeof a)[]).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return differing.length ? `the new models change the processor's ${differing.join(', ')} (only model versions may change while it runs)` : null;
}
