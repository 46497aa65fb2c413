// What the machine has left, in one line, for error messages and the test runner's progress: a
// daemon that dies without a word, or a run that slows down, is most often out of memory or disk.
import { spawnSync } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';

export interface HostResources {
  memAvailableMb: number | null;
  memTotalMb: number | null;
  /** Free bytes for an unprivileged writer, by path (the repo and the temp dir may be different file systems). */
  diskFreeMb: Record<string, number | null>;
  load1: number;
}

function meminfoMb(field: string, text: string): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

function freeMb(path: string): number | null {
  try {
    const s = statfsSync(path);
    return Math.round((s.bavail * s.bsize) / 2 ** 20);
  } catch {
    return null;
  }
}

export function hostResources(paths: string[]): HostResources {
  let meminfo = '';
  try {
    meminfo = readFileSync('/proc/meminfo', 'utf8');
  } catch {
    // not Linux: memory unknown
  }
  return {
    memAvailableMb: meminfoMb('MemAvailable', meminfo),
    memTotalMb: meminfoMb('MemTotal', meminfo),
    diskFreeMb: Object.fromEntries([...new Set([...paths, tmpdir()])].map((p) => [p, freeMb(p)])),
    load1: loadavg()[0],
  };
}

const gib = (mb: number | null) => (mb === null ? '?' : `${(mb / 1024).toFixed(1)} GiB`);

/** e.g. "memory 20.1 GiB free of 23.4 GiB; disk free 74.0 GiB at /work/main, 74.0 GiB at /tmp; load 2.10" */
export function describeHost(paths: string[]): string {
  const r = hostResources(paths);
  const disks = Object.entries(r.diskFreeMb).map(([p, mb]) => `${gib(mb)} at ${p}`).join(', ');
  return `memory ${gib(r.memAvailableMb)} free of ${gib(r.memTotalMb)}; disk free ${disks}; load ${r.load1.toFixed(2)}`;
}

/** The kernel's last OOM-killer lines, when the kernel log is readable (root, or dmesg_restrict=0); else []. */
export function recentOomKills(max = 5): string[] {
  const r = spawnSync('dmesg', ['--ctime'], { encoding: 'utf8', timeout: 5_000 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return [];
  return r.stdout.split('\n').filter((l) => /out of memory|oom-kill|killed process/i.test(l)).slice(-max);
}

/** One path, few words, for a line per step: "mem 20.1 GiB free, disk 74.0 GiB free, load 2.10". */
export function hostBrief(path: string): string {
  const r = hostResources([path]);
  return `mem ${gib(r.memAvailableMb)} free, disk ${gib(r.diskFreeMb[path] ?? null)} free, load ${r.load1.toFixed(2)}`;
}
