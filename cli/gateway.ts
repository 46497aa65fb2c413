// `streamscore gateway replay FILE|- | simulate`: a factory gateway producing SensorReadings to
// factory.sensor-readings.v1 with store-and-forward (docs/gateway.md).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { Gateway } from '../connectors/gateway/gateway.ts';
import { checkMappingAgainstRegistry, loadMapping, MappingError } from '../connectors/gateway/mapping.ts';
import { defaultPlantRegistry } from '../schemas/factory/plant-registry.ts';
import { fileSource, paced, simulatorSource, type SourceItem } from '../connectors/gateway/sources.ts';
import { OptionError, parseDuration, parseNumber } from '../connectors/options.ts';
import { brokerList } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { SIMULATOR_ARG_OPTIONS, simulatorOptionsFromArgs } from './simulate.ts';
import { startFailureReporting, type FailureReporter } from '../connectors/failure-reporter.ts';
import { serviceEnv } from './env.ts';

const USAGE = `usage: streamscore gateway replay FILE|- [--mapping M.json] [--speed 1|60|max] [--rebase-time] [options]
       streamscore gateway simulate [--arms 500] [--interval-ms 100] [--duration 10m] [--seed S] [--drift temperature:+4@2h] [options]
       streamscore gateway drain [options]   send what the spool holds, then exit

  replay FILE         a CSV / whitespace file with --mapping (connectors/mappings/*.json), the
                      simulator's readings.csv(.gz), or JSON lines (*.jsonl, - for stdin)
  --speed N|max       replay at N x recorded speed (default 1 for files, max for stdin)
  --rebase-time       shift event times so the first reading happens now
  simulate            the plant simulator live, in real time (see streamscore simulate --help); its
                      failures go to factory.failure-events.v1 as the plant's maintenance system reports them
  --failure-report-delay 6h   simulate: report each failure this long after it happens (default 0)

options:
  --gateway-id ID         this gateway (default gw-local); names its state dir
  --plant-id ID           plant of readings whose source names none (default plant-01)
  --state-dir DIR         spool, rejects.jsonl, cached schema id (default .data/gateway/<gateway-id>)
  --rejects FILE          where rejected readings go (default <state-dir>/rejects.jsonl)
  --spool-max-bytes N     bound of the on-disk spool, e.g. 512m, 2g (default 1g)
  --spool-segment-bytes N (default 16m)
  --spool-policy P        block (stop reading input while full; replay default) or
                          drop-oldest (live sensors; simulate default)
  --fsync P               interval (default: every second), always, never
  --batch N               records per send (default 1000)
  --linger-ms MS          wait this long to fill a batch (default 20)
  --compression C         gzip (default) or none
  --metrics-port N        serve /metrics, /healthz, /readyz on this port
  --drain-timeout 30s     at the end, how long to wait for the spool to drain (default: until drained)
`;

export async function run(args: string[]): Promise<number> {
  const [mode, ...rest] = args;
  if (mode === '--help' || mode === '-h' || mode === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (mode !== 'replay' && mode !== 'simulate' && mode !== 'drain') {
    process.stderr.write(`streamscore gateway: say replay, simulate or drain\n\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        ...SIMULATOR_ARG_OPTIONS,
        mapping: { type: 'string' },
        speed: { type: 'string' },
        'rebase-time': { type: 'boolean' },
        'gateway-id': { type: 'string' },
        'state-dir': { type: 'string' },
        rejects: { type: 'string' },
        'spool-max-bytes': { type: 'string' },
        'spool-segment-bytes': { type: 'string' },
        'spool-policy': { type: 'string' },
        fsync: { type: 'string' },
        batch: { type: 'string' },
        'linger-ms': { type: 'string' },
        compression: { type: 'string' },
        'metrics-port': { type: 'string' },
        'drain-timeout': { type: 'string' },
        'failure-report-delay': { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`streamscore gateway: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const log = createLogger({ component: 'gateway' });
  let gateway: Gateway | null = null;
  let failureReports: Awaited<ReturnType<typeof startFailureReporting>> | null = null;
  // SIGINT/SIGTERM: stop reading, put what is buffered in the spool, exit 0 (the next start sends it first).
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const env = serviceEnv();
    const gatewayId = v['gateway-id'] ?? 'gw-local';
    const policy = oneOf('spool-policy', v['spool-policy'] ?? (mode === 'simulate' ? 'drop-oldest' : 'block'), ['block', 'drop-oldest'] as const);
    let source: AsyncIterable<SourceItem> | Iterable<SourceItem>;
    let shift = 0;
    if (mode === 'replay') {
      const [file] = positionals;
      if (!file || positionals.length > 1) throw new OptionError('replay takes one FILE (or - for stdin)');
      if (file !== '-' && !existsSync(file)) throw new OptionError(`${file}: no such file`);
      const mapping = v.mapping ? checkMappingAgainstRegistry(loadMapping(v.mapping), defaultPlantRegistry()) : undefined;
      const simOnly = [...Object.keys(SIMULATOR_ARG_OPTIONS), 'failure-report-delay'].filter((k) => k !== 'plant-id' && v[k as keyof typeof v] !== undefined);
      if (simOnly.length) throw new OptionError(`${simOnly.map((k) => `--${k}`).join(', ')}: only for gateway simulate`);
      const speed = v.speed === undefined ? (file === '-' ? Infinity : 1) : v.speed === 'max' ? Infinity : parseNumber('speed', v.speed, { min: 0.000001 });
      if (v['rebase-time'] && speed !== 1) throw new OptionError('--rebase-time needs --speed 1: a faster replay would put event times in the future, which validation rejects');
      const items = fileSource(file, mapping);
      if (v['rebase-time']) {
        const first = await firstReading(items);
        shift = first.shift;
        source = paced(first.items, { speed, signal: abort.signal });
      } else source = paced(items, { speed, signal: abort.signal });
      if (file === '-') abort.signal.addEventListener('abort', () => process.stdin.destroy());
    } else if (mode === 'drain') {
      if (positionals.length) throw new OptionError(`drain takes no FILE (got ${positionals.join(' ')})`);
      source = [];
    } else {
      if (positionals.length) throw new OptionError(`simulate takes no FILE (got ${positionals.join(' ')})`);
      const sim = simulatorOptionsFromArgs(v);
      const intervalMs = sim.intervalMs ?? 100;
      const start = Math.floor(Date.now() / intervalMs) * intervalMs;
      const durationMs = v.duration !== undefined || v.days !== undefined ? sim.durationMs! : Infinity;
      const delayMs = v['failure-report-delay'] === undefined ? 0 : parseDuration('failure-report-delay', v['failure-report-delay']);
      failureReports = await startFailureReporting({ brokers: brokerList(env.KAFKA_BROKERS ?? ''), schemaRegistryUrl: env.SCHEMA_REGISTRY_URL ?? '', plantId: sim.plantId ?? v['plant-id'] ?? 'plant-01', delayMs, log });
      source = reportingFailures(paced(simulatorSource({ ...sim, intervalMs, start, durationMs, onEvent: failureReports.reporter.onEvent }), { speed: 1, origin: { eventTime: start, wallTime: start }, signal: abort.signal }), failureReports.reporter);
    }
    const stateDir = v['state-dir'] ?? join(REPO_ROOT, '.data', 'gateway', gatewayId);
    gateway = await Gateway.start({
      gatewayId,
      plantId: v['plant-id'] ?? 'plant-01',
      brokers: brokerList(env.KAFKA_BROKERS ?? ''),
      schemaRegistryUrl: env.SCHEMA_REGISTRY_URL ?? '',
      stateDir,
      rejectsPath: v.rejects,
      spool: {
        maxBytes: v['spool-max-bytes'] ? parseBytes('spool-max-bytes', v['spool-max-bytes']) : undefined,
        segmentBytes: v['spool-segment-bytes'] ? parseBytes('spool-segment-bytes', v['spool-segment-bytes']) : undefined,
        policy,
        fsync: oneOf('fsync', v.fsync ?? 'interval', ['interval', 'always', 'never'] as const),
      },
      batchMax: v.batch ? parseNumber('batch', v.batch, { integer: true, min: 1 }) : undefined,
      lingerMs: v['linger-ms'] ? parseNumber('linger-ms', v['linger-ms'], { min: 0 }) : undefined,
      compression: oneOf('compression', v.compression ?? 'gzip', ['gzip', 'none'] as const),
      metricsPort: v['metrics-port'] ? parseNumber('metrics-port', v['metrics-port'], { integer: true, min: 0 }) : undefined,
      eventTimeShiftMs: shift,
      log,
    });
    const g = gateway;
    const started = Date.now();
    const progress = setInterval(() => {
      void g.summary().then((s) => log.info({ ...s, mode: g.forwarder.mode, perSecond: Math.round(s.read / ((Date.now() - started) / 1000)) }, 'gateway progress'));
    }, 10_000);
    try {
      await g.run(source, abort.signal);
      if (!abort.signal.aborted) {
        const drained = g.drained();
        const timeout = v['drain-timeout'] ? parseDuration('drain-timeout', v['drain-timeout']) : Infinity;
        const outcome = await Promise.race([
          drained.then(() => 'drained' as const),
          new Promise<'aborted'>((r) => abort.signal.addEventListener('abort', () => r('aborted'))),
          ...(timeout < Infinity ? [new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeout).unref())] : []),
        ]);
        if (outcome !== 'drained') log.warn({ pending: g.spool.pending }, `stopped before the spool drained (${outcome}); the next start sends those readings first`);
      }
    } finally {
      clearInterval(progress);
    }
    const seconds = (Date.now() - started) / 1000;
    await g.close();
    if (failureReports) log.info({ reported: failureReports.reporter.reported, notYetDue: failureReports.reporter.pending }, 'failure events reported');
    await failureReports?.close();
    const s = await g.summary();
    process.stdout.write(`${JSON.stringify({ ...s, seconds: Math.round(seconds * 10) / 10, readingsPerSecond: Math.round(s.sent / seconds), rejectsFile: s.rejected ? g.rejectsPath : undefined })}\n`);
    return 0;
  } catch (err) {
    if (gateway) await gateway.close().catch(() => {});
    await failureReports?.close().catch(() => {});
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (err instanceof OptionError || err instanceof MappingError) {
      process.stderr.write(`streamscore gateway: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

/** Releases the simulator's due failure reports as the paced readings pass their event time. */
async function* reportingFailures(items: AsyncIterable<SourceItem>, reporter: FailureReporter): AsyncGenerator<SourceItem> {
  for await (const item of items) {
    if (item.kind === 'reading') await reporter.release(item.reading.event_time);
    yield item;
  }
}

/** Reads ahead to the first reading, so event times can be shifted to start now. */
async function firstReading(items: AsyncIterable<SourceItem>): Promise<{ shift: number; items: AsyncIterable<SourceItem> }> {
  const it = items[Symbol.asyncIterator]();
  const head: SourceItem[] = [];
  for (;;) {
    const n = await it.next();
    if (n.done) return { shift: 0, items: (async function* () { yield* head; })() };
    head.push(n.value);
    if (n.value.kind === 'reading') {
      const shift = Date.now() - n.value.reading.event_time;
      return { shift, items: (async function* () { yield* head; yield* { [Symbol.asyncIterator]: () => it }; })() };
    }
  }
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new OptionError(`--${name} must be ${allowed.join(' or ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

function parseBytes(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(raw.trim());
  if (!m) throw new OptionError(`--${name} ${JSON.stringify(raw)} is not a size (e.g. 512m, 2g)`);
  return Math.round(Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()));
}
