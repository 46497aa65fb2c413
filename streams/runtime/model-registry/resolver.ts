// Resolves a processor's model slots to directories: `NAME@alias` (champion by default) -> the
// version the alias points at (one registered-models/get: every alias and tag in one call) -> that
// version's files in the artifact cache (artifact-cache.ts). With no registry (MLFLOW_TRACKING_URI
// unset: CI unit tests, a laptop without the stack) or no such registered model or alias, a slot
// serves its committed directory, and the runtime says so once. A registry that is configured but
// does not answer is an error, not a fallback: serving the committed model in its place would
// silently undo a promotion.
import type { Logger } from '../logger.ts';
import type { ModelSlot } from '../served-processor.ts';
import { ArtifactCache } from './artifact-cache.ts';
import { MlflowClient } from './mlflow-client.ts';

export const DEFAULT_ALIAS = 'champion';

export interface ModelRef {
  name: string;
  alias: string;
}

/** `NAME@alias` (alias defaults to champion); a name may not be empty, an alias is a word. */
export function parseModelRef(ref: string): ModelRef {
  const at = ref.lastIndexOf('@');
  const [name, alias] = at < 0 ? [ref, DEFAULT_ALIAS] : [ref.slice(0, at), ref.slice(at + 1)];
  if (!name.trim() || !/^[A-Za-z0-9_-]+$/.test(alias)) throw new Error(`model reference ${JSON.stringify(ref)} must be NAME@alias (e.g. arm-failure-lgbm@champion)`);
  return { name, alias };
}

/** A slot as served: the registry version (null: the committed directory) and its local directory. */
export interface ResolvedSlot {
  name: string;
  alias: string;
  version: string | null;
  dir: string;
}

export const servedAs = (r: ResolvedSlot): string => (r.version === null ? `${r.name} (committed ${r.dir})` : `${r.name}@${r.alias} = version ${r.version}`);

export interface ModelResolverOptions {
  /** Null: no registry configured; every slot serves its committed directory. */
  client: MlflowClient | null;
  cache?: ArtifactCache;
  alias?: string;
  log: Logger;
}

export class ModelResolver {
  readonly alias: string;
  private readonly client: MlflowClient | null;
  private readonly cache: ArtifactCache | null;
  private readonly log: Logger;
  private readonly warned = new Set<string>();

  constructor(o: ModelResolverOptions) {
    this.client = o.client;
    this.cache = o.client ? (o.cache ?? new ArtifactCache({ client: o.client })) : null;
    this.alias = o.alias ?? DEFAULT_ALIAS;
    this.log = o.log;
  }

  /** MLFLOW_TRACKING_URI's registry, or none; the cache root from STREAMSCORE_MODEL_CACHE_DIR when set. */
  static fromEnv(env: NodeJS.ProcessEnv, log: Logger, alias?: string): ModelResolver {
    const trackingUri = env.MLFLOW_TRACKING_URI?.trim();
    const client = trackingUri ? new MlflowClient({ trackingUri, env }) : null;
    const cacheDir = env.STREAMSCORE_MODEL_CACHE_DIR?.trim();
    return new ModelResolver({ client, cache: client ? new ArtifactCache({ client, dir: cacheDir || undefined }) : undefined, alias, log });
  }

  /** The registry client, or null without one (the rollout reads the challenger and rolls it back through it). */
  get registry(): MlflowClient | null {
    return this.client;
  }

  get hasRegistry(): boolean {
    return this.client !== null;
  }

  /** The version the alias points at now; null when the registered model or the alias does not exist. */
  async aliasVersion(name: string): Promise<string | null> {
    if (!this.client) return null;
    const model = await this.client.getRegisteredModel(name);
    return model?.aliases?.find((a) => a.alias === this.alias)?.version ?? null;
  }

  /** Every slot's directory; `versions` (from aliasVersion) skips asking the registry again. */
  async resolveAll(processor: string, slots: ModelSlot[], versions?: Map<string, string | null>): Promise<ResolvedSlot[]> {
    if (!this.client && slots.length && !this.warned.has('')) {
      this.warned.add('');
      this.log.warn({ processor, models: slots.map((s) => s.name) }, 'no model registry (MLFLOW_TRACKING_URI is not set): serving the committed model directories');
    }
    const out: ResolvedSlot[] = [];
    for (const slot of slots) out.push(await this.resolve(slot, versions?.has(slot.name) ? versions.get(slot.name)! : await this.aliasVersion(slot.name)));
    return out;
  }

  /** One slot at `version` (null: the committed directory, said once per slot). */
  async resolve(slot: ModelSlot, version: string | null): Promise<ResolvedSlot> {
    const base = { name: slot.name, alias: this.alias };
    if (version === null || !this.client || !this.cache) {
      if (this.client && !this.warned.has(slot.name)) {
        this.warned.add(slot.name);
        this.log.warn({ model: slot.name, alias: this.alias, dir: slot.committedDir }, `no registered model ${slot.name} with alias ${this.alias}: serving the committed directory`);
      }
      return { ...base, version: null, dir: slot.committedDir };
    }
    const mv = await this.client.getModelVersion(slot.name, version);
    if (!mv) throw new Error(`${slot.name}@${this.alias} points at version ${version}, which the registry does not have`);
    this.warned.delete(slot.name);
    return { ...base, version, dir: await this.cache.fetch(mv) };
  }
}
