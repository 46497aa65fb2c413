// A real browser for the live-view tests: Debian's chromium driven by playwright-core through its
// executablePath (playwright's own browser downloads come from a CDN that is unreachable here).
// Installed on demand with apt-get when running as root, as the stack installs redis-server;
// STREAMSCORE_CHROMIUM names another binary.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const run = promisify(execFile);
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** The chromium binary, installing Debian's package if needed; a reason string when it cannot be had. */
export async function ensureChromium(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ path: string } | { unavailable: string }> {
  const wanted = process.env.STREAMSCORE_CHROMIUM;
  if (wanted) return existsSync(wanted) ? { path: wanted } : { unavailable: `STREAMSCORE_CHROMIUM=${wanted} does not exist` };
  if (existsSync(DEBIAN_CHROMIUM)) return { path: DEBIAN_CHROMIUM };
  if (process.getuid?.() !== 0) return { unavailable: `${DEBIAN_CHROMIUM} is missing and installing it needs root: sudo apt-get install -y chromium (or set STREAMSCORE_CHROMIUM)` };
  const started = Date.now();
  log('live-view test: installing chromium with apt-get (once, ~1-2 min)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const options = { env, timeout: 10 * 60_000, maxBuffer: 64 * 1024 * 1024 };
  await run('apt-get', ['update', '-qq'], options);
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], options);
  if (!existsSync(DEBIAN_CHROMIUM)) throw new Error(`apt-get install chromium succeeded but ${DEBIAN_CHROMIUM} is missing`);
  log(`live-view test: chromium installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { path: DEBIAN_CHROMIUM };
}

/** Headless chromium; --no-sandbox because CI runs as root, where chromium refuses its sandbox. */
export async function launchChromium(path: string): Promise<Browser> {
  return chromium.launch({ executablePath: path, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'], timeout: 60_000 });
}
