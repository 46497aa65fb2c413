// Plant profiles: what a plant measures and how its failure model's features are built, as a JSON
// file (connectors/plants/*.json) instead of code. JSON Schema (plant-profile.schema.json, checked
// with ajv) holds the shape; the checks below hold what a schema cannot say (unique names, windows
// in ascending order, a legacy kind reported in its unit), and every problem is named at once so a
// user fixes a profile in one pass. docs/plant-profiles.md describes the fields.
import { jsonConfig } from '../json-config.ts';
import { SENSOR_LIMITS } from './sensor-reading-rules.ts';

export interface PlantChannel {
  /** Feature-name prefix and the reading's channel: [a-z][a-z0-9_]*. */
  name: string;
  /** Short code the rolling-window store keys a channel's state by (unique within the plant). */
  code: string;
  label?: string;
  unit: string;
  min: number;
  max: number;
  /** One of the three legacy sensor kinds, when the channel is one of them. */
  kind?: 'VIBRATION' | 'TEMPERATURE' | 'PRESSURE';
}

export interface PlantProfile {
  plant_id: string;
  description?: string;
  sample_interval_ms: number;
  channels: PlantChannel[];
  operating_settings?: { name: string; description?: string }[];
  label: { source: 'failure_events' | 'run_to_failure'; horizon_ms: number };
  features: {
    bucket_ms: number;
    lateness_buckets: number;
    windows: { label: string; buckets: number }[];
    ema: { label: string; tau_ms: number }[];
    regimes?: { k: number };
  };
  model: { artifacts: string };
}

export class PlantProfileError extends Error {
  readonly profile: string;
  readonly problems: string[];
  constructor(profile: string, problems: string[]) {
    super(`plant profile ${profile} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlantProfileError';
    this.profile = profile;
    this.problems = problems;
  }
}

function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
}

/** The checks JSON Schema cannot express, on a profile of the right shape. */
function semanticProblems(p: PlantProfile): string[] {
  const problems: string[] = [];
  for (const [field, values] of [['channels name', p.channels.map((c) => c.name)], ['channels code', p.channels.map((c) => c.code)],
    ['operating_settings name', (p.operating_settings ?? []).map((s) => s.name)], ['features.windows label', p.features.windows.map((w) => w.label)],
    ['features.ema label', p.features.ema.map((e) => e.label)]] as const) {
    for (const d of duplicates([...values])) problems.push(`${field} ${JSON.stringify(d)} appears more than once`);
  }
  const settingNames = new Set((p.operating_settings ?? []).map((s) => s.name));
  p.channels.forEach((c, i) => {
    if (!(c.min < c.max)) problems.push(`channels[${i}] (${c.name}): min ${c.min} must be below max ${c.max}`);
    if (settingNames.has(c.name)) problems.push(`channels[${i}] (${c.name}) has the name of an operating setting`);
    if (c.kind && SENSOR_LIMITS[c.kind].unit !== c.unit) problems.push(`channels[${i}] (${c.name}): a ${c.kind} channel is reported in ${SENSOR_LIMITS[c.kind].unit}, not ${JSON.stringify(c.unit)}`);
  });
  const kinds = p.channels.map((c) => c.kind).filter((k): k is NonNullable<typeof k> => !!k);
  for (const d of duplicates(kinds)) problems.push(`two channels have kind ${d}`);
  const w = p.features.windows;
  w.forEach((x, i) => {
    if (i > 0 && x.buckets <= w[i - 1].buckets) problems.push(`features.windows must grow: ${x.label} (${x.buckets} buckets) after ${w[i - 1].label} (${w[i - 1].buckets} buckets)`);
  });
  // The rolling-window store keeps as many buckets as the longest window; an EMA's state is kept
  // beside it, but its time constant must fit the history the store can replay after a restart.
  const ringMs = w[w.length - 1].buckets * p.features.bucket_ms;
  for (const e of p.features.ema) if (e.tau_ms > ringMs) problems.push(`features.ema ${e.label}: tau ${e.tau_ms} ms is longer than the longest window (${ringMs} ms)`);
  if (p.features.bucket_ms < p.sample_interval_ms) problems.push(`features.bucket_ms ${p.features.bucket_ms} is shorter than sample_interval_ms ${p.sample_interval_ms}: most buckets would be empty`);
  if (p.features.regimes && settingNames.size === 0) problems.push('features.regimes needs operating_settings to cluster');
  if (p.model.artifacts.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p.model.artifacts) || p.model.artifacts.split(/[\\/]/).includes('..')) {
    problems.push(`model.artifacts ${JSON.stringify(p.model.artifacts)} must be a path inside the repository, relative to its root`);
  }
  return problems;
}

const profiles = jsonConfig<PlantProfile>({
  schema: new URL('./plant-profile.schema.json', import.meta.url),
  semanticProblems,
  error: (name, problems) => new PlantProfileError(name, problems),
  label: (raw, name) => (typeof (raw as { plant_id?: unknown }).plant_id === 'string' ? `${name} (${(raw as { plant_id: string }).plant_id})` : name),
  root: '(profile)',
});

/** Checks a parsed profile; throws PlantProfileError naming every problem. */
export function parsePlantProfile(raw: unknown, name = 'profile'): PlantProfile {
  return profiles.parse(raw, name);
}

/** Reads and checks a profile file. */
export function loadPlantProfile(file: string): PlantProfile {
  return profiles.load(file);
}

/**
 * The model's feature names for a profile, per channel in profile order: the mean and std of every
 * window, every EMA, the last value and two lags, the trend and std ratio of the shortest against the
 * longest window (docs/factoryguard-features.md). For the simulator's profile these are exactly the
 * 42 names the committed FactoryGuard model was trained on.
 */
export function featureNamesOf(p: PlantProfile): string[] {
  const w = p.features.windows.map((x) => x.label);
  const short = w[0];
  const long = w[w.length - 1];
  const perChannel = [
    ...w.map((l) => `mean_${l}`), ...w.map((l) => `std_${l}`), ...p.features.ema.map((e) => `ema_${e.label}`),
    'last', 'lag1', 'lag2', `trend_${short}_${long}`, `std_ratio_${short}_${long}`,
  ];
  return p.channels.flatMap((c) => perChannel.map((f) => `${c.name}_${f}`));
}
