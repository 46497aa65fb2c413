// Which model directory each of the processor's slots replays with. `--model NAME@VERSION` (an
// MLflow version number) or `--model NAME@alias` resolve through the runtime's resolver and
// artifact cache (sha256-checked); a slot without --model replays the version the live outputs of
// the range name in their streamscore-model header (name@model_version from the model meta), found
// as the committed directory when that holds it, else as the registered version tagged with it.
import type { Logger } from '../logger.ts';
import { ArtifactCache } from '../model-registry/artifact-cache.ts';
import { MlflowClient } from '../model-registry/mlflow-client.ts';
import { ModelResolver, type ResolvedSlot } from '../model-registry/resolver.ts';
import { TAG } from '../model-registry/register.ts';
import { committedDirs, type ModelSlot, type ServedProcessor } from '../served-processor.ts';

export interface ReplayModelOptions {
  served: ServedProcessor;
  /** `NAME@VERSION` or `NAME@alias`, at most one per slot. */
  refs: string[];
  /** `name@model_version` values the live outputs of the compared range name. */
  liveModels: ReadonlySet<string>;
  /** MLflow client (null: no registry); the cache where versions are downloaded. */
  client: MlflowClient | null;
  cacheDir?: string;
  log: Logger;
}

export interface ReplayModel extends ResolvedSlot {
  /** How it was chosen, for the report. */
  why: string;
}

export async function replayModels(o: ReplayModelOptions): Promise<ReplayModel[]> {
  const slotNames = o.served.slots.map((s) => s.name);
  const refs = new Map<string, string>();
  for (const ref of o.refs) {
    const at = ref.lastIndexOf('@');
    const [name, which] = at < 0 ? [ref, ''] : [ref.slice(0, at), ref.slice(at + 1)];
    if (!name || !/^[A-Za-z0-9_.-]+$/.test(which)) throw new Error(`--model ${JSON.stringify(ref)} must be NAME@VERSION or NAME@alias (e.g. ${slotNames[0] ?? 'model'}@3 or ${slotNames[0] ?? 'model'}@challenger)`);
    if (!slotNames.includes(name)) throw new Error(`--model ${ref}: ${o.served.name} serves no model ${name} (its models: ${slotNames.join(', ') || 'none'})`);
    if (refs.has(name)) throw new Error(`--model names ${name} twice`);
    refs.set(name, which);
  }
  // The committed directories' versions, by slot: what serves without a registry.
  const committed = new Map((o.served.build(committedDirs(o.served)).models ?? []).map((m) => [m.name, m.version]));
  const out: ReplayModel[] = [];
  for (const slot of o.served.slots) {
    const which = refs.get(slot.name);
    if (which !== undefined) out.push(await explicit(o, slot, which));
    else out.push(await asLive(o, slot, committed.get(slot.name)));
  }
  return out;
}

function resolverOf(o: ReplayModelOptions, alias: string, what: string): ModelResolver {
  if (!o.client) throw new Error(`${what} needs the model registry: MLFLOW_TRACKING_URI is not set`);
  return new ModelResolver({ client: o.client, cache: new ArtifactCache({ client: o.client, dir: o.cacheDir }), alias, log: o.log });
}

async function explicit(o: ReplayModelOptions, slot: ModelSlot, which: string): Promise<ReplayModel> {
  if (/^\d+$/.test(which)) {
    const resolver = resolverOf(o, 'replay', `--model ${slot.name}@${which}`);
    return { ...(await resolver.resolve(slot, which)), why: `--model ${slot.name}@${which}` };
  }
  const resolver = resolverOf(o, which, `--model ${slot.name}@${which}`);
  const version = await resolver.aliasVersion(slot.name);
  if (version === null) throw new Error(`--model ${slot.name}@${which}: the registry has no alias ${which} on ${slot.name}`);
  return { ...(await resolver.resolve(slot, version)), why: `--model ${slot.name}@${which} (version ${version})` };
}

async function asLive(o: ReplayModelOptions, slot: ModelSlot, committedVersion: string | undefined): Promise<ReplayModel> {
  const versions = [...o.liveModels].filter((m) => m.startsWith(`${slot.name}@`)).map((m) => m.slice(slot.name.length + 1));
  if (versions.length > 1) throw new Error(`the live outputs of the range name ${versions.length} versions of ${slot.name} (${versions.join(', ')}): a swap happened in it; replay one with --model ${slot.name}@VERSION`);
  const base = { name: slot.name, alias: 'live' };
  if (versions.length === 0) {
    // Nothing live to copy (no output in the range): what `streamscore run` would serve now.
    const resolved = o.client ? (await resolverOf(o, 'champion', '').resolveAll('replay', [slot]))[0] : { ...base, version: null, dir: slot.committedDir };
    return { ...resolved, why: 'no live output in the range names it: what the processor would serve now' };
  }
  const [live] = versions;
  if (live === committedVersion) return { ...base, version: null, dir: slot.committedDir, why: `the live outputs' ${slot.name}@${live} (committed directory)` };
  if (!o.client) throw new Error(`the live outputs name ${slot.name}@${live}, which is not the committed directory's version (${committedVersion ?? 'none'}), and MLFLOW_TRACKING_URI is not set to find it in the registry`);
  const page = await o.client.searchModelVersions({ filter: `name='${slot.name.replace(/'/g, "\\'")}'`, maxResults: 1000 });
  const mv = page.items.find((v) => v.tags?.some((t) => t.key === TAG.modelVersion && t.value === live));
  if (!mv) throw new Error(`the live outputs name ${slot.name}@${live}, but no registered version of ${slot.name} is tagged ${TAG.modelVersion}=${live}: pass --model ${slot.name}@VERSION`);
  const resolved = await resolverOf(o, 'live', '').resolve(slot, mv.version);
  return { ...resolved, why: `the live outputs' ${slot.name}@${live} (registry version ${mv.version})` };
}

export function mlflowClientOrNull(env: NodeJS.ProcessEnv): MlflowClient | null {
  const trackingUri = env.MLFLOW_TRACKING_URI?.trim();
  return trackingUri ? new MlflowClient({ trackingUri, env }) : null;
}
