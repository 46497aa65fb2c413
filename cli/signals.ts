// How a stop reaches a long-running command (lake sink, run <processor>, gateway, scoring-api). Each
// stops gracefully on its own SIGINT/SIGTERM handler (finish the batch, flush, commit, leave the
// group) and exits 0; this file makes sure the signal gets there, once, however it was started.
//
//   - `npx streamscore ...` is `npm exec` -> `<script-shell> -c "streamscore ..."` -> node. npm
//     forwards SIGINT and SIGTERM to its child only, the shell, and dash (Debian's /bin/sh) passes
//     neither on: on SIGINT it waits for node, which never hears of it; on SIGTERM it dies and leaves
//     node running. The project's .npmrc sets `script-shell=bash`, which execs the command, so node is
//     npm's own child and receives what `kill -INT <npx pid>` sends.
//   - Ctrl-C in a terminal signals the whole process group, and npm (or bin/streamscore.mjs's re-exec
//     on an old Node) forwards it once more: one stop arrives twice. Commands take it with
//     `process.once`, and Node's default action for the second would kill the process mid-flush; a
//     repeat within DUPLICATE_WINDOW_MS is absorbed here. A signal after that (someone insisting on a
//     stop that hangs) still ends the process at once, as before.
//   - Started by npm or by the re-exec (npm_lifecycle_event / STREAMSCORE_WRAPPED set) and the parent
//     goes away (the shell killed by a forwarded SIGTERM under a user's own script-shell, npm killed):
//     that is a SIGTERM to this process, so it still stops gracefully instead of running on orphaned.

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const DUPLICATE_WINDOW_MS = 2_000;
const PARENT_POLL_MS = 500;

export interface StopSignalOptions {
  env?: NodeJS.ProcessEnv;
  /** For messages; stderr by default. */
  write?: (line: string) => void;
}

/** Ends the process the way a signal it does not handle would (exit status 128 + n for shells). */
function dieOf(signal: NodeJS.Signals): void {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}

export function installStopSignals(o: StopSignalOptions = {}): void {
  const env = o.env ?? process.env;
  const write = o.write ?? ((line: string) => void process.stderr.write(line));
  let firstStopAt: number | null = null;
  for (const signal of STOP_SIGNALS) {
    const guard = (): void => {
      // Listeners run in the order they were added and this one is first: the command's handler, if
      // it has one, is still registered at this point (a `once` handler is removed after it runs).
      const commandHandles = process.listeners(signal).some((l) => l !== guard);
      if (commandHandles) {
        firstStopAt ??= Date.now();
        return;
      }
      if (firstStopAt !== null && Date.now() - firstStopAt < DUPLICATE_WINDOW_MS) return; // the same stop, delivered twice
      if (firstStopAt !== null) write(`streamscore: ${signal} again while stopping; exiting without finishing the stop\n`);
      dieOf(signal);
    };
    process.on(signal, guard);
  }
  if (env.npm_lifecycle_event !== undefined || env.STREAMSCORE_WRAPPED === '1') watchParent(write);
}

function watchParent(write: (line: string) => void): void {
  const parent = process.ppid;
  const poll = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(poll);
    write(`streamscore: the process that started this one (pid ${parent}) is gone; stopping as on SIGTERM\n`);
    process.kill(process.pid, 'SIGTERM');
  }, PARENT_POLL_MS);
  poll.unref();
}
