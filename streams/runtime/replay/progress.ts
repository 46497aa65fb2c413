// Progress of a long replay on stderr, from the offset totals known before reading: on a terminal a
// bar redrawn at most 4 times a second (records, rate, ETA); otherwise (CI, a log file) one line
// every 5 s, so a log is not flooded with carriage returns.
export interface ProgressReporter {
  /** `done` records of `total` so far, in phase `what`. */
  update(what: string, done: number, total: number): void;
  finish(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  now?: () => number;
  /** Between plain lines when the stream is not a terminal. */
  lineEveryMs?: number;
}

export function progressReporter(o: ProgressOptions = {}): ProgressReporter {
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? Date.now;
  const tty = stream.isTTY === true;
  const every = tty ? 250 : (o.lineEveryMs ?? 5_000);
  const started = now();
  let last = 0;
  let drawn = false;
  let latest: [string, number, number] | null = null;
  const line = (what: string, done: number, total: number): string => {
    const seconds = Math.max(0.001, (now() - started) / 1000);
    const rate = done / seconds;
    const eta = rate > 0 && total > done ? `${Math.ceil((total - done) / rate)} s` : '-';
    const pct = total > 0 ? Math.min(1, done / total) : 1;
    const bar = tty ? `[${'#'.repeat(Math.round(pct * 30)).padEnd(30, '.')}] ` : '';
    return `${bar}${what}: ${done.toLocaleString('en')}/${total.toLocaleString('en')} records (${(pct * 100).toFixed(0)}%), ${Math.round(rate).toLocaleString('en')}/s, ETA ${eta}`;
  };
  return {
    update(what, done, total) {
      latest = [what, done, total];
      if (now() - last < every) return;
      last = now();
      drawn = true;
      stream.write(tty ? `\r${line(what, done, total)}\u001b[K` : `${line(what, done, total)}\n`);
    },
    finish() {
      if (latest && tty) stream.write(`\r${line(...latest)}\u001b[K\n`);
      else if (latest && drawn) stream.write(`${line(...latest)}\n`);
    },
  };
}
