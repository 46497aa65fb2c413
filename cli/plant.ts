// `streamscore plant check | export | train`: onboarding a plant by its profile and gateway mapping
// (docs/plant-profiles.md). `export` writes what the plant sent, checked as the stream checks it,
// in the trainer's format; `train` exports and runs the plant's trainer (models/maintenance/
// train_plant.py), which writes the plant's own model where its profile says.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { loadPlantProfile, featureNamesOf, PlantProfileError, type PlantProfile } from '../schemas/factory/plant-profile.ts';
import { loadMapping, mappingProfileProblems, MappingError, type Mapping } from '../connectors/gateway/mapping.ts';
import { fileSource, type SourceItem } from '../connectors/gateway/sources.ts';
import { exportHistory, readFailureEventsCsv, type HistoryEvent, type HistorySummary } from '../connectors/plants/history.ts';
import { topicFailureEvents, topicReadings } from '../connectors/plants/topic-history.ts';
import { TOPICS } from '../schemas/topics.ts';
import { brokerList } from '../streams/runtime/kafka-client.ts';
import { serviceEnv } from './env.ts';

const USAGE = `usage: streamscore plant <command> [options]

  check PROFILE [--mapping M]
        checks a plant profile (and a gateway mapping against it); names every problem
  export --profile P --out DIR (--readings FILE --mapping M | --from-topic [--topic T])
         [--arm-prefix S] [--failures CSV | --failures-topic] [--end-rul FILE]
        the plant's history, checked against its profile, in the trainer's format
        (readings.csv.gz, failures.csv, maintenance.csv, end_rul.csv, rejects.jsonl, meta.json)
  train --profile P (--readings FILE --mapping M | --from-topic [--topic T]) [--failures CSV | --failures-topic]
        [--test-readings FILE --test-end-rul FILE] [--trials N] [--smote-trials N] [--work DIR] [--artifacts DIR] [--model-name NAME]
        exports the history (and a held-out test history) and trains the plant's model
        into the profile's model.artifacts, or --artifacts (models/maintenance/train_plant.py);
        --model-name: the registered name (default <plant_id>-failure-lgbm; the retraining steward
        passes arm-failure-lgbm for the simulator plant)

--failures: arm_id,failure_time,mode,repaired_at[,kind] (epoch ms or ISO 8601; kind FAILURE, the
default, or MAINTENANCE); --failures-topic reads the plant's events from factory.failure-events.v1.
--end-rul: one number per line, the remaining life in samples at the last reading of the k-th arm
(order of first appearance), for histories that stop before failure (C-MAPSS RUL_FD00x.txt).
`;

const OPTIONS = {
  profile: { type: 'string' },
  mapping: { type: 'string' },
  readings: { type: 'string' },
  out: { type: 'string' },
  'from-topic': { type: 'boolean', default: false },
  topic: { type: 'string' },
  'arm-prefix': { type: 'string' },
  failures: { type: 'string' },
  'failures-topic': { type: 'boolean', default: false },
  'end-rul': { type: 'string' },
  'test-readings': { type: 'string' },
  'test-end-rul': { type: 'string' },
  trials: { type: 'string' },
  'smote-trials': { type: 'string' },
  work: { type: 'string' },
  artifacts: { type: 'string' },
  'model-name': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

const say = (line: string) => process.stderr.write(`${line}\n`);

interface Plant {
  profile: PlantProfile;
  /** The file as read: its sha256 goes into the export's meta.json. */
  text: string;
}

function loadPlant(path: string | undefined): Plant {
  if (!path) throw new UsageError('--profile PROFILE.json is required');
  if (!existsSync(path)) throw new UsageError(`${path}: no such file`);
  return { profile: loadPlantProfile(path), text: readFileSync(path, 'utf8') };
}

/** A gateway mapping that agrees with the plant's profile (else MappingError naming every difference). */
function checkedMapping(path: string, profile: PlantProfile): Mapping {
  const mapping = loadMapping(path);
  const problems = mappingProfileProblems(mapping, profile);
  if (problems.length) throw new MappingError(mapping.name, problems);
  return mapping;
}

interface HistorySource {
  items: AsyncIterable<SourceItem> | Iterable<SourceItem>;
  source: string;
}

/** The plant's own file, read through its mapping as the gateway reads it. */
function mappedFile(readings: string | undefined, mappingPath: string | undefined, profile: PlantProfile): HistorySource {
  if (!readings || !mappingPath) throw new UsageError('--readings FILE needs --mapping M (how the file becomes readings)');
  if (!existsSync(readings)) throw new UsageError(`${readings}: no such file`);
  const mapping = checkedMapping(mappingPath, profile);
  return { items: fileSource(readings, mapping), source: `${readings} via mapping ${mapping.name}` };
}

interface ExportExtras {
  armPrefix?: string;
  failureEvents?: HistoryEvent[];
  endRul?: string;
}

async function exportTo(out: string, plant: Plant, from: HistorySource, extra: ExportExtras): Promise<HistorySummary> {
  say(`plant ${plant.profile.plant_id}: exporting ${from.source} -> ${out}`);
  const summary = await exportHistory(from.items, {
    profile: plant.profile, profileText: plant.text, out, source: from.source, armPrefix: extra.armPrefix, failureEvents: extra.failureEvents, endRulFile: extra.endRul, progress: progressLine,
  });
  say(describe(summary, out));
  return summary;
}

function progressLine(p: { read: number; kept: number; rejected: number; elapsedMs: number }): void {
  say(`  ... ${p.read.toLocaleString('en')} read, ${p.kept.toLocaleString('en')} kept, ${p.rejected.toLocaleString('en')} rejected (${(p.elapsedMs / 1000).toFixed(0)} s)`);
}

function describe(summary: HistorySummary, out: string): string {
  const span = summary.firstEventTime === null ? 'no readings' : `${new Date(summary.firstEventTime).toISOString()} .. ${new Date(summary.lastEventTime!).toISOString()}`;
  return `  ${summary.readings.toLocaleString('en')} readings of ${summary.arms} arms (${span}), ${summary.rejected} rejected (${join(out, 'rejects.jsonl')}), ${summary.failures} failures, ${summary.endRul} end-of-history RULs${summary.otherPlants ? `, ${summary.otherPlants} readings of other plants skipped` : ''}`;
}

export async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true }));
  } catch (err) {
    say(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  try {
    switch (command) {
      case 'check': {
        const path = positionals[0] ?? values.profile;
        const { profile } = loadPlant(path);
        say(`${path}: plant ${profile.plant_id}, ${profile.channels.length} channels, ${featureNamesOf(profile).length} features${profile.features.regimes ? `, normalised within ${profile.features.regimes.k} regimes` : ''}`);
        if (values.mapping) {
          checkedMapping(values.mapping, profile);
          say(`${values.mapping}: agrees with the profile`);
        }
        return 0;
      }
      case 'export': {
        if (!values.out) throw new UsageError('--out DIR is required');
        const plant = loadPlant(values.profile);
        const from: HistorySource = values['from-topic']
          ? { items: topicReadings({ ...kafkaSource(plant.profile.plant_id), topic: values.topic }), source: `topic ${values.topic ?? TOPICS.sensorReadingsValidated.name}` }
          : mappedFile(values.readings, values.mapping, plant.profile);
        const summary = await exportTo(values.out, plant, from, { armPrefix: values['arm-prefix'], failureEvents: await failureEventsOf(values, plant.profile.plant_id), endRul: values['end-rul'] });
        return summary.readings > 0 ? 0 : 1;
      }
      case 'train': {
        const plant = loadPlant(values.profile);
        // Absolute paths: the trainer runs in models/maintenance (its modules import each other by name).
        const work = resolve(values.work ?? join(REPO_ROOT, '.data', 'plants', plant.profile.plant_id));
        // --from-topic: what the plant sent lately (the retraining steward's default), as `export --from-topic` reads it.
        const history: HistorySource = values['from-topic']
          ? { items: topicReadings({ ...kafkaSource(plant.profile.plant_id), topic: values.topic }), source: `topic ${values.topic ?? TOPICS.sensorReadingsValidated.name}` }
          : mappedFile(values.readings, values.mapping, plant.profile);
        await exportTo(join(work, 'train'), plant, history, { failureEvents: await failureEventsOf(values, plant.profile.plant_id) });
        const trainerArgs = ['--profile', resolve(values.profile!), '--train', join(work, 'train')];
        if (values['test-readings']) {
          await exportTo(join(work, 'test'), plant, mappedFile(values['test-readings'], values.mapping, plant.profile), { armPrefix: 'test-', endRul: values['test-end-rul'] });
          trainerArgs.push('--test', join(work, 'test'));
        }
        if (values.trials) trainerArgs.push('--trials', values.trials);
        if (values['smote-trials']) trainerArgs.push('--smote-trials', values['smote-trials']);
        if (values.artifacts) trainerArgs.push('--out', resolve(values.artifacts));
        if (values['model-name']) trainerArgs.push('--model-name', values['model-name']);
        const code = await runTrainer(trainerArgs);
        // A new model version in MLflow when a tracking server answers (cli/models.ts), else one line.
        if (code === 0) await (await import('./models.ts')).registerAfterTraining('failure', resolve(values.artifacts ?? join(REPO_ROOT, plant.profile.model.artifacts)));
        return code;
      }
      default:
        say(`unknown plant command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      say(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof PlantProfileError || err instanceof MappingError) {
      say(err.message);
      return 1;
    }
    throw err;
  }
}

function kafkaSource(plantId: string) {
  const env = serviceEnv();
  return { brokers: brokerList(env.KAFKA_BROKERS!), registryUrl: env.SCHEMA_REGISTRY_URL!, plantId, log: pino({ level: 'warn' }) };
}

/** The plant's failure events: --failures CSV, or --failures-topic (factory.failure-events.v1). */
async function failureEventsOf(values: { failures?: string; 'failures-topic'?: boolean }, plantId: string): Promise<HistoryEvent[] | undefined> {
  if (values.failures && values['failures-topic']) throw new UsageError('give --failures CSV or --failures-topic, not both');
  if (values.failures) {
    if (!existsSync(values.failures)) throw new UsageError(`${values.failures}: no such file`);
    return readFailureEventsCsv(values.failures);
  }
  if (!values['failures-topic']) return undefined;
  const events = await topicFailureEvents(kafkaSource(plantId));
  say(`plant ${plantId}: ${events.length} failure events on ${TOPICS.failureEvents.name}`);
  return events;
}

/**
 * The Python the trainer needs: LightGBM, scikit-learn, Optuna, imbalanced-learn and onnxmltools
 * (models/requirements.txt, exact versions). STREAMSCORE_TRAIN_PYTHON names one; otherwise a venv
 * of its own, .venv-train, is created and kept in step with that file (the project's .venv holds
 * only what the tests need, which CI installs on every fresh machine).
 */
function trainingPython(): string {
  if (process.env.STREAMSCORE_TRAIN_PYTHON) return process.env.STREAMSCORE_TRAIN_PYTHON;
  const venv = join(REPO_ROOT, '.venv-train');
  const requirements = join(REPO_ROOT, 'models', 'requirements.txt');
  const stamp = join(venv, '.requirements.sha256');
  const want = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return join(venv, 'bin', 'python');
  say(`training environment: installing ${requirements} into ${venv} (once; a few minutes)`);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal}); set STREAMSCORE_TRAIN_PYTHON to a Python with ${requirements}`);
  };
  if (!existsSync(join(venv, 'bin', 'python'))) run('python3', ['-m', 'venv', venv]);
  run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
  writeFileSync(stamp, `${want}\n`);
  return join(venv, 'bin', 'python');
}

function runTrainer(args: string[]): Promise<number> {
  const python = trainingPython();
  const script = join(REPO_ROOT, 'models', 'maintenance', 'train_plant.py');
  say(`training: ${python} ${script} ${args.join(' ')}`);
  const child = spawn(python, [script, ...args], { cwd: join(REPO_ROOT, 'models', 'maintenance'), stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
