// What `models list | show | history` read back from MLflow: registered models with their aliases,
// every version with its model_version, run and aliases, and the promotion records (who, when, why,
// gate results) kept as version tags.
import type { MlflowClient, RegisteredModel } from './mlflow-client.ts';
import { promotionsOf, type PromotionRecord } from './promote.ts';
import { TAG, allVersions, tagOf } from './register.ts';

export interface ModelSummary {
  name: string;
  kind: string;
  processor: string;
  aliases: Record<string, string>;
  latestVersion: string | null;
}

export interface VersionSummary {
  version: string;
  modelVersion: string;
  createdAt: string;
  runId: string;
  codeVersion: string;
  evalSet: string;
  aliases: string[];
  promotions: { n: number; record: PromotionRecord }[];
}

export interface ModelDetail extends ModelSummary {
  versions: VersionSummary[];
}

function summary(m: RegisteredModel): ModelSummary {
  const versions = (m.latest_versions ?? []).map((v) => Number(v.version));
  return {
    name: m.name,
    kind: tagOf(m.tags, TAG.kind) ?? '?',
    processor: tagOf(m.tags, TAG.processor) ?? '?',
    aliases: Object.fromEntries((m.aliases ?? []).map((a) => [a.alias, a.version])),
    latestVersion: versions.length ? String(Math.max(...versions)) : null,
  };
}

export async function listModels(client: MlflowClient): Promise<ModelSummary[]> {
  const out: ModelSummary[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.searchRegisteredModels({ maxResults: 200, pageToken });
    out.push(...page.items.map(summary));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function showModel(client: MlflowClient, name: string): Promise<ModelDetail> {
  const model = await client.getRegisteredModel(name);
  if (!model) throw new Error(`no registered model ${name} (streamscore models list shows them)`);
  // Version search results carry no aliases in MLflow 3.17; the registered model has them all.
  const aliasesOf = (version: string) => (model.aliases ?? []).filter((a) => a.version === version).map((a) => a.alias);
  const versions = (await allVersions(client, name)).map((v): VersionSummary => ({
    version: v.version,
    modelVersion: tagOf(v.tags, TAG.modelVersion) ?? '?',
    createdAt: new Date(v.creation_timestamp).toISOString(),
    runId: v.run_id ?? '',
    codeVersion: tagOf(v.tags, TAG.codeVersion) ?? '?',
    evalSet: tagOf(v.tags, TAG.evalSet) ?? '?',
    aliases: aliasesOf(v.version),
    promotions: promotionsOf(v),
  }));
  const detail = { ...summary(model), versions };
  detail.latestVersion = versions.at(-1)?.version ?? null;
  return detail;
}

/** Every promotion record of the model, oldest first, with the version it is about. */
export async function modelHistory(client: MlflowClient, name: string): Promise<({ version: string; modelVersion: string; n: number } & PromotionRecord)[]> {
  const detail = await showModel(client, name);
  return detail.versions
    .flatMap((v) => v.promotions.map((p) => ({ version: v.version, modelVersion: v.modelVersion, n: p.n, ...p.record })))
    .sort((a, b) => a.at.localeCompare(b.at) || Number(a.version) - Number(b.version));
}
