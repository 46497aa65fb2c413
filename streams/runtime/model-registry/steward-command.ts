// The retrain command of the steward: a shell command line the caller chose for the model (a plant's
// `plant train` on its history from the topic, STREAMSCORE_RETRAIN_<KIND>, or the policy's
// per-model `retrain.command`), run with the model's name in its environment. Its output goes to the
// steward's stderr as it comes (training logs are long), and the last lines are kept for the audit.
import { spawn } from 'node:child_process';

export type RetrainPlan =
  | { manual: false; command: string; description: string; cwd?: string }
  /** Training this model needs what the steward cannot supply (labelled data, a GPU, PyTorch). */
  | { manual: true; reason: string };

export interface CommandResult {
  code: number;
  ms: number;
  /** The last lines of stdout and stderr together, for RETRAIN_FAILED's reason. */
  tail: string;
}

const TAIL_CHARS = 600;

export function runRetrainCommand(plan: Extract<RetrainPlan, { manual: false }>, env: Record<string, string>, echo: (chunk: Buffer) => void = (c) => process.stderr.write(c)): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let tail = '';
    const keep = (chunk: Buffer) => {
      echo(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4 * TAIL_CHARS);
    };
    const child = spawn('bash', ['-c', plan.command], { cwd: plan.cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const done = (code: number) => resolve({ code, ms: performance.now() - started, tail: tail.trim().split('\n').slice(-6).join(' | ').slice(-TAIL_CHARS) });
    child.once('error', (err) => {
      tail += `\n${err.message}`;
      done(127);
    });
    child.once('close', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}
