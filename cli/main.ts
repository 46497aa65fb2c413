// `streamscore <command> [args]`: dispatches to cli/<command>.ts. Adding a command is one line in
// COMMANDS; its module exports `run(args): Promise<number>` (the exit code).
import { StackError } from '../infra/stack/errors.ts';
import { installStopSignals } from './signals.ts';
import { errorLine } from '../streams/runtime/retry.ts';

interface CommandModule {
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  infra: { summary: 'up | down | status [--json]: local Kafka + schema registry + Redis', load: () => import('./infra.ts') },
  topics: { summary: 'apply | list: create declared topics, register their schemas', load: () => import('./topics.ts') },
  run: { summary: '<processor> [--describe]: run a stream processor until SIGTERM', load: () => import('./run.ts') },
  simulate: { summary: '--out DIR [--arms N --days D --interval-ms MS --seed S]: plant simulator -> training CSVs', load: () => import('./simulate.ts') },
  alerts: { summary: 'tail [--from-beginning] [--limit N]: maintenance alerts as they arrive', load: () => import('./alerts.ts') },
  'scoring-api': { summary: '[--port 8095] [--no-auth]: FactoryGuard real-time scoring API (POST /v1/score, API key with scope score)', load: () => import('./scoring-api.ts') },
  'api-keys': { summary: 'create --name N --scopes score,metrics [--rate 50/s] [--expires 30d] | list | revoke ID: keys of the HTTP APIs', load: () => import('./api-keys.ts') },
  plant: { summary: 'check PROFILE | export --profile P --out DIR (--readings F --mapping M | --from-topic) | train --profile P --readings F --mapping M: onboard a plant by its profile', load: () => import('./plant.ts') },
  gateway: { summary: 'replay FILE|- [--mapping M] [--speed N|max] | simulate [--arms N --interval-ms MS --duration 10m]: readings -> Kafka, store-and-forward', load: () => import('./gateway.ts') },
  billing: { summary: 'produce --source synthetic|telco [...]: billing events -> telecom.billing-events.v1', load: () => import('./billing.ts') },
  lake: { summary: 'sink [--lake DIR]: telecom.billing-events.v1 -> exactly-once Parquet lake', load: () => import('./lake.ts') },
  spark: { summary: 'up | down | status [--json]: local Spark standalone cluster (1 master + 2 workers)', load: () => import('./spark.ts') },
  churn: { summary: 'train | score --date YYYY-MM-DD | publish --date YYYY-MM-DD: SparkScale churn jobs', load: () => import('./churn.ts') },
  camera: { summary: 'simulate [--fps 30 --cameras 2 --data DIR --defect-rate R] | folder DIR [--fps F --loop]: inspection cameras -> vision.frames.v1', load: () => import('./camera.ts') },
  vision: { summary: 'inspect IMAGE... [--json] [--heatmaps DIR] [--model DIR]: VisionSpec PCB QC on image files, no stack | live [--port 8096]: the live QC web page', load: () => import('./vision.ts') },
  documents: { summary: 'extract FILE... [--json] [--ocr auto|always|never]: LexiScan entities from contract files, no stack | api [--port 8097]: upload API | search [...]: find documents by entities', load: () => import('./documents.ts') },
  models: { summary: 'register KIND DIR | seed | promote NAME VERSION --to challenger|champion --reason R | list | show NAME | history NAME: MLflow model registry', load: () => import('./models.ts') },
  replay: { summary: '<processor> --from T1 --to T2 [--model NAME@VERSION|alias] [--out FILE|NAME.replay] [--fail-on-diff]: re-run a time range, diff with the live outputs', load: () => import('./replay.ts') },
  demo: { summary: 'stack up, topics, sample readings through sensor-validation, where to look', load: () => import('./demo.ts') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: streamscore <command> [args]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    process.stderr.write(`streamscore: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  // SIGINT/SIGTERM reach the command's graceful stop once, also through npx and when the parent dies.
  installStopSignals();
  try {
    return await (await command.load()).run(args);
  } catch (err) {
    if (err instanceof StackError) {
      process.stderr.write(`streamscore ${name}: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
      return 1;
    }
    // One clear line for an operator; the stack only when asked for (LOG_LEVEL=debug).
    process.stderr.write(`streamscore ${name}: ${errorLine(err, 2_000)}\n`);
    if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace') process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
