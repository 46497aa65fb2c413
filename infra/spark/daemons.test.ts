// startMaster's failure path with a stand-in spark-class: a master that dies before writing a line
// (as when the kernel's OOM killer takes its launcher JVM) is started once more, and the error says
// how both attempts ended. The real daemons are exercised by cluster.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StackError } from '../stack/errors.ts';
import { loadSparkConfig } from './config.ts';
import { startMaster } from './daemons.ts';
import type { PysparkRuntime } from './pyspark-runtime.ts';

const scratch = mkdtempSync(join(tmpdir(), 'streamscore-spark-daemons-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A SPARK_HOME whose bin/spark-class runs `body` and counts its starts in `starts`. */
function fakeSparkHome(name: string, body: string): { runtime: PysparkRuntime; starts: string } {
  const home = join(scratch, name);
  const starts = join(home, 'starts');
  mkdirSync(join(home, 'bin'), { recursive: true });
  writeFileSync(join(home, 'bin', 'spark-class'), `#!/bin/sh\necho start >> '${starts}'\n${body}\n`, { mode: 0o755 });
  return { runtime: { python: '/bin/false', sparkHome: home, pysparkVersion: 'test', javaHome: '/nonexistent', javaMajor: 17 }, starts };
}

function configIn(name: string) {
  // Ports nobody listens on: startMaster polls the UI only until the process is gone.
  return loadSparkConfig({ STREAMSCORE_DATA_DIR: join(scratch, name, 'data'), STREAMSCORE_SPARK_MASTER_PORT: '1', STREAMSCORE_SPARK_UI_PORT: '2', STREAMSCORE_SPARK_WORKER_UI_PORT: '3' });
}

/** Runs startMaster against a stand-in spark-class that runs `body`; it must fail. */
async function failedStart(name: string, body: string): Promise<{ err: StackError; starts: string; logged: string[] }> {
  const { runtime, starts } = fakeSparkHome(name, body);
  const logged: string[] = [];
  const err = await startMaster(configIn(name), runtime, (l) => logged.push(l)).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof StackError, String(err));
  return { err, starts: readFileSync(starts, 'utf8'), logged };
}

describe('startMaster failures', () => {
  it('a master killed before its first line is started once more; the error names both ends', async () => {
    const { err, starts, logged } = await failedStart('silent', 'kill -9 $$');
    assert.equal(starts, 'start\nstart\n');
    assert.equal(logged.length, 1);
    assert.equal(logged[0], 'spark: the master exited during start (killed by SIGKILL) without a line of output; starting it once more');
    assert.match(err.message, /^first attempt: Spark master exited during start \(killed by SIGKILL\); last lines of .*master\.log:\n\(the log is empty\)\nhost: memory /);
    assert.match(err.message, /\nSpark master exited during start \(killed by SIGKILL\); .*\n\(the log is empty\)\nhost: /);
  });

  it('a master that says why it stops is not retried: the error carries its words and exit code', async () => {
    const { err, starts, logged } = await failedStart('talks', 'echo "Error: JAVA_HOME is not a JDK" >&2; exit 1');
    assert.equal(starts, 'start\n');
    assert.deepEqual(logged, []);
    assert.match(err.message, /^Spark master exited during start \(exit code 1\); last lines of .*master\.log:\nError: JAVA_HOME is not a JDK\nhost: /);
  });
});
