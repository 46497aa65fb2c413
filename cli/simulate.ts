// `streamscore simulate`: runs the plant simulator over a span of simulated time and writes training
// files (readings.csv.gz, failures.csv, events.csv, meta.json) to --out. See docs/gateway.md.
import { parseArgs } from 'node:util';
import { DAY_MS, DEFAULT_SIMULATOR_OPTIONS, type SimulatorOptions } from '../connectors/plant-simulator.ts';
import { OptionError, parseDuration, parseNumber, parseTime } from '../connectors/options.ts';
import { writeSimulation } from '../connectors/simulator-output.ts';
import { parseDriftOption } from '../connectors/simulator-drift.ts';

const USAGE = `usage: streamscore simulate --out DIR [options]

  --arms N              arms (default ${DEFAULT_SIMULATOR_OPTIONS.arms})
  --first-arm I         index of the first arm, e.g. 200 for arms training never saw (default 0)
  --days D | --duration 36h   simulated time (default 30 days)
  --interval-ms MS      time between samples of one sensor (default ${DEFAULT_SIMULATOR_OPTIONS.intervalMs}; 100 = 10 Hz)
  --seed S              integer seed (default ${DEFAULT_SIMULATOR_OPTIONS.seed}); same seed, same readings
  --start TIME          event time of the first sample, ISO 8601 or epoch ms (default ${new Date(DEFAULT_SIMULATOR_OPTIONS.start).toISOString()})
  --mtbf-days D         mean time between failures per arm (default ${DEFAULT_SIMULATOR_OPTIONS.mtbfDays})
  --plant-id ID         (default ${DEFAULT_SIMULATOR_OPTIONS.plantId})
  --arms-per-gateway N  (default ${DEFAULT_SIMULATOR_OPTIONS.armsPerGateway})
  --drift SPEC          injected sensor drift, CHANNEL:CHANGE@START[/RAMP], comma-separated:
                        temperature:+4@2h (+4 degC from 2 h after the start), pressure:x0.9@1d/6h
  --gzip-level 1-9      (default 6)
`;

export function simulatorOptionsFromArgs(values: Record<string, string | boolean | undefined>): Partial<SimulatorOptions> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const o: Partial<SimulatorOptions> = {};
  const int = (k: string, min: number) => (str(k) === undefined ? undefined : parseNumber(k, str(k)!, { integer: true, min }));
  o.arms = int('arms', 1);
  o.firstArm = int('first-arm', 0);
  o.intervalMs = int('interval-ms', 1);
  o.seed = int('seed', -(2 ** 31));
  o.armsPerGateway = int('arms-per-gateway', 1);
  if (str('mtbf-days') !== undefined) o.mtbfDays = parseNumber('mtbf-days', str('mtbf-days')!, { min: 0.001 });
  if (str('start') !== undefined) o.start = parseTime('start', str('start')!);
  if (str('plant-id') !== undefined) o.plantId = str('plant-id');
  if (str('days') !== undefined && str('duration') !== undefined) throw new OptionError('give --days or --duration, not both');
  if (str('days') !== undefined) o.durationMs = Math.round(parseNumber('days', str('days')!, { min: 0 }) * DAY_MS);
  if (str('duration') !== undefined) o.durationMs = parseDuration('duration', str('duration')!);
  if (str('drift') !== undefined) o.drift = parseDriftOption(str('drift')!);
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<SimulatorOptions>;
}

export const SIMULATOR_ARG_OPTIONS = {
  arms: { type: 'string' },
  'first-arm': { type: 'string' },
  days: { type: 'string' },
  duration: { type: 'string' },
  'interval-ms': { type: 'string' },
  seed: { type: 'string' },
  start: { type: 'string' },
  'mtbf-days': { type: 'string' },
  'plant-id': { type: 'string' },
  'arms-per-gateway': { type: 'string' },
  drift: { type: 'string' },
} as const;

export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { ...SIMULATOR_ARG_OPTIONS, out: { type: 'string' }, 'gzip-level': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`streamscore simulate: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (!values.out) throw new OptionError('--out DIR is required');
    const options = simulatorOptionsFromArgs(values);
    const gzipLevel = values['gzip-level'] === undefined ? 6 : parseNumber('gzip-level', values['gzip-level'], { integer: true, min: 0 });
    const summary = await writeSimulation(values.out, options, {
      gzipLevel,
      progress: (p) => {
        const rate = p.rows / (p.elapsedMs / 1000);
        const done = p.simulatedMs / p.totalMs;
        const eta = done > 0 ? ((p.elapsedMs / 1000) * (1 - done)) / done : NaN;
        process.stderr.write(`simulate: ${(p.simulatedMs / DAY_MS).toFixed(2)} / ${(p.totalMs / DAY_MS).toFixed(2)} days (${(done * 100).toFixed(1)} %), ${(p.rows / 1e6).toFixed(2)} M rows, ${Math.round(rate / 1000)} k rows/s, eta ${Math.round(eta)} s\n`);
      },
    });
    process.stderr.write(`simulate: wrote ${summary.readings} readings, ${summary.failures} failures, ${summary.events} events to ${values.out} in ${summary.seconds.toFixed(1)} s (${Math.round(summary.rowsPerSecond / 1000)} k rows/s)\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof OptionError) && !/plant simulator:/.test((err as Error).message)) throw err;
    process.stderr.write(`streamscore simulate: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
}
