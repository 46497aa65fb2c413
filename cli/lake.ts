// `streamscore lake sink`: runs the exactly-once Parquet sink (connectors/parquet-sink) for a lake
// dataset until SIGTERM/SIGINT, which flush and commit what is buffered before exiting 0.
import { parseArgs } from 'node:util';
import { OptionError, parseDuration, parseNumber } from '../connectors/options.ts';
import { LAKE_DATASETS, defaultLakeDir } from '../connectors/parquet-sink/datasets.ts';
import { startParquetSink } from '../connectors/parquet-sink/sink.ts';
import { brokerList } from '../streams/runtime/kafka-client.ts';
import { serviceEnv } from './env.ts';

const USAGE = `usage: streamscore lake sink [options]

  --dataset NAME       ${Object.keys(LAKE_DATASETS).join(' | ')} (default billing-events)
  --lake DIR           lake root (default STREAMSCORE_LAKE_DIR or .data/lake)
  --topic NAME         read this topic instead of the dataset's own (same schema), e.g. a replay topic
  --group ID           consumer group (default parquet-sink.<topic>)
  --max-file-records N rows per partition flush before a new file (default 500000)
  --max-file-mb N      estimated memory (MB) of one partition's buffer before a new file (default 128, ~130k rows)
  --max-buffer-mb N    estimated memory (MB) of all buffers before the largest is flushed early (default 384)
  --rotate 60s         flush a partition whose oldest buffered record is this old (default 60s)
  --metrics-port P     /metrics /healthz /readyz (default METRICS_PORT or a free port; 'off' disables)
`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'sink') {
    process.stderr.write(USAGE);
    return 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        dataset: { type: 'string', default: 'billing-events' },
        lake: { type: 'string' },
        topic: { type: 'string' },
        group: { type: 'string' },
        'max-file-records': { type: 'string' },
        'max-file-mb': { type: 'string' },
        'max-buffer-mb': { type: 'string' },
        rotate: { type: 'string' },
        'metrics-port': { type: 'string' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const env = serviceEnv();
  try {
    const dataset = Object.hasOwn(LAKE_DATASETS, values.dataset!) ? LAKE_DATASETS[values.dataset as keyof typeof LAKE_DATASETS] : undefined;
    if (!dataset) throw new OptionError(`--dataset ${values.dataset} is not one of ${Object.keys(LAKE_DATASETS).join(', ')}`);
    const mb = (k: 'max-file-mb' | 'max-buffer-mb') => (values[k] === undefined ? undefined : parseNumber(k, values[k]!, { min: 1 }) * 1024 * 1024);
    const port = values['metrics-port'] ?? env.METRICS_PORT ?? '0';
    const topic = values.topic ? { ...dataset.topic, name: values.topic } : dataset.topic;
    const sink = await startParquetSink({
      ...dataset,
      topic,
      brokers: brokerList(env.KAFKA_BROKERS!),
      registryUrl: env.SCHEMA_REGISTRY_URL!,
      lakeDir: values.lake ?? defaultLakeDir(env),
      groupId: values.group,
      maxFileRecords: values['max-file-records'] === undefined ? undefined : parseNumber('max-file-records', values['max-file-records'], { integer: true, min: 1 }),
      maxFileBytes: mb('max-file-mb'),
      maxBufferedBytes: mb('max-buffer-mb'),
      rotateMs: values.rotate === undefined ? undefined : parseDuration('rotate', values.rotate),
      metricsPort: port === 'off' ? null : parseNumber('metrics-port', port, { integer: true, min: 0 }),
      // How long a killed sink holds its partitions before the group hands them on (as for processors).
      sessionTimeoutMs: env.STREAMSCORE_SESSION_TIMEOUT_MS ? parseNumber('STREAMSCORE_SESSION_TIMEOUT_MS', env.STREAMSCORE_SESSION_TIMEOUT_MS, { integer: true, min: 6_000 }) : undefined,
    });
    process.stderr.write(`parquet sink: ${topic.name} -> ${sink.datasetDir}${sink.httpPort ? ` (metrics on http://127.0.0.1:${sink.httpPort}/metrics)` : ''}\n`);
    const onSignal = () => void sink.stop();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    await sink.stopped;
    return 0;
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`streamscore lake sink: ${(err as Error).message}\n`);
    return 1;
  }
}
