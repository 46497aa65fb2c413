import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  cmdlineMatches, detachedExitOf, findOnPath, isAlive, ownedPid, parseCmdline, portFree, readCmdline, readPidFile, spawnDetached, startFailureMessage,
  stopOwned, waitUntil, writePidFile,
} from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'streamscore-process-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A node process that idles until killed; `marker` makes its command line unique. */
async function idler(marker: string, ignoreTerm = false): Promise<number> {
  const script = `${ignoreTerm ? "process.on('SIGTERM', () => {});" : ''} setInterval(() => {}, 1000); process.stdout.write('up')`;
  const child = spawn(process.execPath, ['-e', script, marker], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  return child.pid!;
}

describe('cmdlineMatches', () => {
  const kafka = ['/usr/bin/java', '-Xmx1g', '-cp', '/r/.cache/kafka-lib/*', 'kafka.Kafka', '/r/.data/kafka/server.properties'];

  it('needs every needle inside some argument', () => {
    assert.equal(cmdlineMatches(kafka, ['kafka.Kafka', '/r/.data/kafka/server.properties']), true);
    assert.equal(cmdlineMatches(kafka, ['kafka.Kafka', '/other/.data/kafka/server.properties']), false);
    assert.equal(cmdlineMatches(kafka, ['quarkus-run.jar']), false);
  });

  it('never matches an empty command line (zombie, exited process)', () => {
    assert.equal(cmdlineMatches([], []), false);
    assert.equal(cmdlineMatches([], ['kafka.Kafka']), false);
  });
});

describe('parseCmdline / readCmdline', () => {
  it('splits on NUL and drops the trailing empty part', () => {
    assert.deepEqual(parseCmdline('java\0-jar\0x.jar\0'), ['java', '-jar', 'x.jar']);
    assert.deepEqual(parseCmdline(''), []);
  });

  it('reads this process', () => {
    assert.ok(readCmdline(process.pid).length > 0);
    assert.deepEqual(readCmdline(2 ** 22 + 1), []);
  });

  it('never reads a live process as empty while it execs (the window a start-up check could hit)', async () => {
    // bash, then exec into sleep: polled back to back, /proc/<pid>/cmdline reads '' between the two.
    const marker = `exec-window-${process.pid}`;
    let emptyWhileLive = 0;
    for (let run = 0; run < 10; run++) {
      const child = spawn('bash', ['-c', `x=$(echo start); exec -a ${marker} sleep 1`], { stdio: 'ignore' });
      const until = Date.now() + 300; // well before sleep 1 ends: no read falls in its exit
      while (Date.now() < until) if (readCmdline(child.pid!).length === 0) emptyWhileLive++;
      assert.ok(readCmdline(child.pid!).includes(marker), 'the poll saw the exec (else it tested nothing)');
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    assert.equal(emptyWhileLive, 0);
  });
});

describe('pid files', () => {
  it('round-trips and ignores junk', () => {
    const file = join(dir, 'sub', 'x.pid');
    writePidFile(file, 1234);
    assert.equal(readPidFile(file), 1234);
    writeFileSync(file, 'garbage');
    assert.equal(readPidFile(file), null);
    writeFileSync(file, '1\n'); // never init
    assert.equal(readPidFile(file), null);
    assert.equal(readPidFile(join(dir, 'missing.pid')), null);
  });
});

describe('ownedPid / stopOwned', () => {
  it('finds and stops a process whose command line matches', async () => {
    const pid = await idler('owned-marker-1');
    const id = { pidFile: join(dir, 'a.pid'), cmdlineNeedles: ['owned-marker-1'] };
    writePidFile(id.pidFile, pid);
    assert.equal(ownedPid(id), pid);
    assert.deepEqual(await stopOwned(id, 5000), { pid, killed: false });
    assert.equal(ownedPid(id), null);
    assert.equal(existsSync(id.pidFile), false);
  });

  it('never signals a live process whose command line does not match (recycled pid)', async () => {
    const pid = await idler('someone-else');
    const id = { pidFile: join(dir, 'b.pid'), cmdlineNeedles: ['kafka.Kafka'] };
    writePidFile(id.pidFile, pid);
    assert.equal(ownedPid(id), null);
    assert.equal(await stopOwned(id, 1000), null);
    assert.equal(isAlive(pid), true);
    assert.equal(existsSync(id.pidFile), false, 'a stale pid file is dropped');
  });

  it('escalates to SIGKILL after the grace period', async () => {
    const pid = await idler('stubborn-marker', true);
    const id = { pidFile: join(dir, 'c.pid'), cmdlineNeedles: ['stubborn-marker'] };
    writePidFile(id.pidFile, pid);
    assert.deepEqual(await stopOwned(id, 300), { pid, killed: true });
  });
});

describe('spawnDetached exits and start failures', () => {
  it('remembers how a detached daemon ended: an exit code, or the signal that killed it', async () => {
    const exited = spawnDetached('/bin/sh', ['-c', 'echo bye; exit 3'], { logFile: join(dir, 'exit3.log'), cwd: dir });
    const killed = spawnDetached('/bin/sh', ['-c', 'kill -9 $$'], { logFile: join(dir, 'killed.log'), cwd: dir });
    assert.ok(await waitUntil(() => detachedExitOf(exited) !== null && detachedExitOf(killed) !== null, 5_000, 20));
    assert.equal(detachedExitOf(exited), 'exit code 3');
    assert.equal(detachedExitOf(killed), 'killed by SIGKILL');
    assert.equal(detachedExitOf(process.pid), null);
  });

  it('a start failure says how the daemon ended, that its log is empty, and what the host has left', async () => {
    const pid = spawnDetached('/bin/sh', ['-c', 'kill -9 $$'], { logFile: join(dir, 'silent.log'), cwd: dir });
    const message = await startFailureMessage('demo daemon', pid, true, 60_000, join(dir, 'silent.log'));
    assert.match(message, /^demo daemon exited during start \(killed by SIGKILL\); last lines of .*silent\.log:\n\(the log is empty\)\nhost: memory [\d.]+ GiB free of [\d.]+ GiB; disk free [\d.]+ GiB at /);
    const slow = await startFailureMessage('demo daemon', pid, false, 60_000, join(dir, 'exit3.log'));
    assert.match(slow, /^demo daemon not ready within 60 s; last lines of .*exit3\.log:\nbye\nhost: /);
  });
});

describe('waitUntil', () => {
  it('returns true once the check passes, false after the timeout', async () => {
    let n = 0;
    assert.equal(await waitUntil(() => ++n === 3, 1000, 5), true);
    assert.equal(await waitUntil(async () => false, 30, 5), false);
  });
});

describe('portFree', () => {
  it('sees a listening port as taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    assert.equal(await portFree(port, '127.0.0.1'), false);
    await new Promise((resolve) => server.close(resolve));
    assert.equal(await portFree(port, '127.0.0.1'), true);
  });
});

describe('findOnPath', () => {
  it('finds executables only', () => {
    const bin = join(dir, 'bin');
    writePidFile(join(bin, 'tool'), 1); // any file; made executable below
    chmodSync(join(bin, 'tool'), 0o755);
    writeFileSync(join(bin, 'plain'), '');
    assert.equal(findOnPath('tool', `/nonexistent:${bin}`), join(bin, 'tool'));
    assert.equal(findOnPath('plain', bin), null);
  });
});
