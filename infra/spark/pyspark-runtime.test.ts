import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../stack/config.ts';
import { StackError } from '../stack/errors.ts';
import { loadSparkConfig } from './config.ts';
import { pysparkRuntime, sparkJavaHome, submitEnv } from './pyspark-runtime.ts';

const scratch = mkdtempSync(join(tmpdir(), 'streamscore-spark-java-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A fake JDK home: bin/java and a `release` file naming the version. */
function fakeJdk(dir: string, version: string): string {
  const home = join(scratch, dir);
  mkdirSync(join(home, 'bin'), { recursive: true });
  writeFileSync(join(home, 'bin', 'java'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(home, 'release'), `JAVA_VERSION="${version}"\n`);
  return home;
}

describe('Java for Spark', () => {
  const jvms = join(scratch, 'jvm');
  mkdirSync(jvms, { recursive: true });
  const jdk25 = fakeJdk('jvm/temurin-25', '25.0.1');
  const jdk17 = fakeJdk('jvm/java-17', '17.0.15');
  const jdk21 = fakeJdk('jvm/java-21', '21.0.4');
  fakeJdk('jvm/java-11', '11.0.2');
  const pathDir = join(scratch, 'path-bin');
  mkdirSync(pathDir, { recursive: true });
  symlinkSync(join(jdk17, 'bin', 'java'), join(pathDir, 'java'));

  it('takes JAVA_HOME when it is a JDK 17-21', () => {
    assert.deepEqual(sparkJavaHome(jdk21, pathDir, jvms), { home: jdk21, major: 21 });
  });

  it('passes over a JAVA_HOME Spark 4.0 does not run on, for the JDK of `java` on PATH', () => {
    assert.deepEqual(sparkJavaHome(jdk25, pathDir, jvms), { home: jdk17, major: 17 });
  });

  it('falls back to the newest supported JDK under the JVM directory', () => {
    assert.deepEqual(sparkJavaHome(undefined, '', jvms), { home: jdk21, major: 21 });
  });

  it('fails with what it found and how to fix it', () => {
    const only25 = join(scratch, 'only25');
    mkdirSync(only25);
    assert.throws(() => sparkJavaHome(jdk25, '', only25), (err: unknown) => {
      assert.ok(err instanceof StackError);
      assert.match(err.message, /no Java 17-21 for Spark found; found .*temurin-25 \(Java 25\)/);
      assert.match(err.hint ?? '', /openjdk-17/);
      return true;
    });
  });
});

describe('pyspark runtime', () => {
  it('points at `bash infra/bootstrap.sh` when the venv python is missing', () => {
    const config = loadSparkConfig({ STREAMSCORE_PYTHON: join(scratch, 'no-venv', 'bin', 'python') });
    assert.throws(() => pysparkRuntime(config), (err: unknown) => err instanceof StackError && /no Python at/.test(err.message) && /bash infra\/bootstrap\.sh/.test(err.hint ?? ''));
  });

  it('points at `bash infra/bootstrap.sh` when that python has no pyspark', () => {
    const config = loadSparkConfig({ STREAMSCORE_PYTHON: '/usr/bin/python3' });
    assert.throws(() => pysparkRuntime(config), (err: unknown) => err instanceof StackError && /pyspark is not installed in \/usr\/bin\/python3/.test(err.message) && /bootstrap/.test(err.hint ?? ''));
  });

  it('gives a job the venv pyspark, its python and a 127.0.0.1 driver for the embedded cluster', () => {
    const env = submitEnv(loadSparkConfig({}), {});
    const python = join(REPO_ROOT, '.venv', 'bin', 'python');
    assert.equal(env.PYSPARK_PYTHON, python);
    assert.match(env.SPARK_HOME, /\/site-packages\/pyspark$/);
    assert.ok(env.JAVA_HOME.startsWith('/'));
    assert.equal(env.SPARK_LOCAL_IP, '127.0.0.1');
  });

  it('leaves the driver address and executor python to the caller for an external cluster', () => {
    const config = loadSparkConfig({ SPARK_MASTER_URL: 'spark://spark-master:7077' });
    const env = submitEnv(config, { PYSPARK_PYTHON: '/opt/conda/bin/python' });
    assert.equal(env.SPARK_LOCAL_IP, undefined);
    assert.equal(env.PYSPARK_PYTHON, '/opt/conda/bin/python');
  });
});
