// `streamscore replay PROCESSOR --from T1 --to T2 [--model NAME@VERSION|NAME@alias] [--out FILE|NAME.replay]
// [--fail-on-diff]`: what the processor would have published for a past time range (with the live
// models, or another version), compared with what it did publish. For incident analysis: "what
// would the new model have alerted last Tuesday at 03:00?". streams/runtime/replay/replay.ts says how.
import { parseArgs } from 'node:util';
import { OptionError, parseDuration, parseTime } from '../connectors/options.ts';
import { PROCESSORS } from '../streams/processors.ts';
import { runtimeOptionsFromEnv } from '../streams/runtime/config.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { formatDiff } from '../streams/runtime/replay/diff.ts';
import { progressReporter } from '../streams/runtime/replay/progress.ts';
import { DEFAULT_LIVE_LAG_MS, replay, type ReplayReport } from '../streams/runtime/replay/replay.ts';
import { serviceEnv } from './env.ts';

const USAGE = `usage: streamscore replay PROCESSOR --from T1 --to T2 [options]

Runs PROCESSOR's handler again over the input records with timestamps in [T1, T2) (ISO 8601 or
epoch ms; T2 may be \`now\`), its state warmed over the time before T1 in a scratch Redis
namespace, cutting the chunks the live run cut, and compares the outputs with what the live
processor published for those records.

options:
  --model NAME@VERSION|NAME@alias  replay with this registered version (repeatable, one per model);
                                   default: the version the live outputs of the range name
  --out FILE | NAME.replay         also write the replayed outputs: a JSONL file, or the topics
                                   NAME.<output topic>.replay (live topics are refused)
  --fail-on-diff                   exit 3 when the replay differs from the live outputs
  --warm-up DURATION               warm the state over this long before T1 (default: the processor's
                                   rebuild lookback, which makes windows exact; 71h for the scorer)
  --live-lag DURATION              look for live outputs until this long after T2 (default 1h)
  --json                           print the report as JSON instead of text
`;

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  model: { type: 'string', multiple: true },
  out: { type: 'string' },
  'fail-on-diff': { type: 'boolean' },
  'live-lag': { type: 'string' },
  'warm-up': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Exit code of --fail-on-diff when the replay differs. */
export const DIFF_EXIT_CODE = 3;

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    process.stderr.write(`streamscore replay: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [name, ...extra] = positionals;
  const entry = name ? PROCESSORS[name] : undefined;
  if (!entry || extra.length) {
    const list = Object.keys(PROCESSORS).join(', ');
    process.stderr.write(`streamscore replay: ${name ? (entry ? `unexpected ${extra.join(' ')}` : `unknown processor ${JSON.stringify(name)}`) : 'which processor?'} (processors: ${list})\n\n${USAGE}`);
    return 2;
  }
  let fromMs: number, toMs: number, liveLagMs: number, warmUpMs: number | undefined;
  try {
    if (!v.from || !v.to) throw new OptionError('--from and --to are required');
    [fromMs, toMs] = [parseTime('from', v.from), v.to === 'now' ? Date.now() : parseTime('to', v.to)];
    if (fromMs >= toMs) throw new OptionError(`--from ${v.from} must be before --to ${v.to}`);
    liveLagMs = v['live-lag'] ? parseDuration('live-lag', v['live-lag']) : DEFAULT_LIVE_LAG_MS;
    warmUpMs = v['warm-up'] ? parseDuration('warm-up', v['warm-up']) : undefined;
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    process.stderr.write(`streamscore replay: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  const env = serviceEnv();
  const runtime = runtimeOptionsFromEnv(env);
  const report = await replay({
    served: await entry.load(),
    fromMs, toMs, liveLagMs, warmUpMs,
    models: v.model ?? [],
    out: v.out ?? null,
    kafkaBrokers: runtime.kafkaBrokers,
    schemaRegistryUrl: runtime.schemaRegistryUrl,
    redisUrl: runtime.redisUrl,
    env,
    maxBatchRecords: runtime.maxBatchRecords,
    workers: runtime.workers,
    log: createLogger({ command: 'replay' }).child({}, { level: env.LOG_LEVEL ?? 'warn' }),
    progress: progressReporter(),
  });
  process.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return v['fail-on-diff'] && !report.diff.identical ? DIFF_EXIT_CODE : 0;
}

export function formatReport(r: ReplayReport): string {
  const lines = [
    `replay of ${r.processor}, input records from ${new Date(r.fromMs).toISOString()} to ${new Date(r.toMs).toISOString()}, state warmed over the ${(r.warmUpMs / 3_600_000).toFixed(1)} h before`,
    ...r.models.map((m) => `  model ${m.name}: ${m.version === null ? `directory ${m.dir}` : `registry version ${m.version}`} (${m.why})`),
    ...(r.liveModelsNotServed.length ? [`  note: live outputs of the range name models this build of ${r.processor} does not serve (${r.liveModelsNotServed.join(', ')}): another build made them, so they differ`] : []),
    `  ${r.comparedRecords} records compared, ${r.warmRecords} warmed the state first; ${r.chunks.live} live chunks cut again, ${r.chunks.default} by default, ${r.chunks.warmUp} of warm-up only${r.chunks.conflicts ? `, ${r.chunks.conflicts} overlapping live chunks ignored` : ''}`,
    `  ${r.liveOutputs} live outputs, ${r.replayOutputs} replayed${r.rejected ? `, ${r.rejected} records rejected by the replay` : ''}${r.out.length ? `; written to ${r.out.join(', ')}` : ''} (${r.seconds.toFixed(1)} s)`,
    '',
  ];
  return `${lines.join('\n')}${formatDiff(r.diff)}`;
}
