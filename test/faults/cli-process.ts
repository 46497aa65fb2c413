// A processor run the way production runs it, `streamscore run <name>` in a child process, for the
// kill -9 cases: its log lines are watched for the group join and its /metrics port, warnings and
// errors (and stderr) are kept for a failure message, and every child still alive when the test
// file ends is SIGKILLed (a failed case must not leave a consumer in the group).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after } from 'node:test';
import { createInterface } from 'node:readline';

const CLI = new URL('../../bin/streamscore.mjs', import.meta.url).pathname;

export interface CliProcessor {
  proc: ChildProcess;
  /** Resolves when the processor has joined its consumer group. */
  joined: Promise<void>;
  /** The port of its /metrics, /healthz and /readyz (METRICS_PORT=0: any free one), once it serves them. */
  metricsPort: Promise<number>;
  /** Its last warnings, errors and stderr lines. */
  output: string[];
}

const children: CliProcessor[] = [];
after(() => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
});

/** Starts `streamscore run <name>` with this process's environment plus `env`. */
export function startCliProcessor(name: string, env: Record<string, string>): CliProcessor {
  const proc = spawn(process.execPath, [CLI, 'run', name], { env: { ...process.env, METRICS_PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  let markJoined!: () => void;
  let markPort!: (port: number) => void;
  const joined = new Promise<void>((r) => (markJoined = r));
  const metricsPort = new Promise<number>((r) => (markPort = r));
  const keep = (line: string) => {
    output.push(line.slice(0, 400));
    if (output.length > 200) output.shift();
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (line.includes('joined consumer group')) markJoined();
    if (line.includes('serving /metrics')) markPort(Number(/"port":(\d+)/.exec(line)?.[1]));
    if (/"level":(4|5|6)0/.test(line)) keep(line);
  });
  createInterface({ input: proc.stderr! }).on('line', keep);
  const child = { proc, joined, metricsPort, output };
  children.push(child);
  return child;
}

/** Resolves when `child` has exited (at once if it already has). */
export async function exited(child: CliProcessor): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) await once(child.proc, 'exit');
}

export async function kill9(child: CliProcessor): Promise<void> {
  child.proc.kill('SIGKILL');
  await exited(child);
}

/** Rejects with the child's last lines if it exits before `step` settles: a wait that gives up as soon as the processor is gone. */
export async function whileRunning<T>(child: CliProcessor, what: string, step: Promise<T>): Promise<T> {
  const why = () => `the processor exited (${child.proc.exitCode ?? child.proc.signalCode}) while ${what}:\n${child.output.slice(-20).join('\n')}`;
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(why());
  const gone = once(child.proc, 'exit').then(() => {
    throw new Error(why());
  });
  return Promise.race([step, gone]);
}
