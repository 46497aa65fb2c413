// `streamscore run <processor>`: runs one processor until SIGTERM/SIGINT, which finish the batch in
// hand, commit, leave the consumer group and exit 0. A fatal consumer crash exits 1.
import { PROCESSORS } from '../streams/processors.ts';
import { runtimeOptionsFromEnv } from '../streams/runtime/config.ts';
import { startProcessor } from '../streams/runtime/kafka-runner.ts';
import { describeTopology } from '../streams/runtime/processor.ts';
import { committedDirs } from '../streams/runtime/served-processor.ts';
import { serviceEnv } from './env.ts';

export async function run(args: string[]): Promise<number> {
  const [name, flag] = args;
  const entry = name ? PROCESSORS[name] : undefined;
  if (!entry) {
    const list = Object.entries(PROCESSORS).map(([n, p]) => `  ${n.padEnd(20)} ${p.summary}`).join('\n');
    process.stderr.write(`usage: streamscore run <processor> [--describe]\n\nprocessors:\n${list}\n`);
    return 2;
  }
  const served = await entry.load();
  if (flag === '--describe') {
    // The committed models: what serves without a registry (a running processor logs what it resolved).
    process.stdout.write(`${JSON.stringify(describeTopology(served.build(committedDirs(served))), null, 2)}\n`);
    return 0;
  }
  const env = serviceEnv();
  const processor = await startProcessor(served, { ...runtimeOptionsFromEnv(env), modelEnv: env });
  const onSignal = () => void processor.stop();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await processor.stopped;
    return 0;
  } catch {
    return 1;
  }
}
