import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { javaMajorFromRelease, kafkaJava, registryJava, scanJvms } from './java.ts';

const jvms = mkdtempSync(join(tmpdir(), 'streamscore-jvm-'));
after(() => rmSync(jvms, { recursive: true, force: true }));

function fakeJdk(name: string, version: string | null): string {
  const home = join(jvms, name);
  mkdirSync(join(home, 'bin'), { recursive: true });
  writeFileSync(join(home, 'bin', 'java'), '#!/bin/sh\n');
  chmodSync(join(home, 'bin', 'java'), 0o755);
  if (version !== null) writeFileSync(join(home, 'release'), `IMPLEMENTOR="x"\nJAVA_VERSION="${version}"\n`);
  return home;
}

const jdk17 = fakeJdk('jdk-17', '17.0.15');
const jdk21 = fakeJdk('jdk-21', '21.0.4');
const jdk25 = fakeJdk('temurin-25', '25.0.3');
fakeJdk('no-release', null);

describe('javaMajorFromRelease', () => {
  it('reads the feature version', () => {
    assert.equal(javaMajorFromRelease('JAVA_VERSION="17.0.15"\n'), 17);
    assert.equal(javaMajorFromRelease('A=1\nJAVA_VERSION="25"\n'), 25);
    assert.equal(javaMajorFromRelease('JAVA_VERSION="1.8.0_392"'), 8);
    assert.equal(javaMajorFromRelease('IMPLEMENTOR="x"'), null);
  });
});

describe('scanJvms', () => {
  it('lists JDKs with a release file, highest first', () => {
    assert.deepEqual(scanJvms(jvms).map((j) => j.major), [25, 21, 17]);
    assert.deepEqual(scanJvms(join(jvms, 'missing')), []);
  });
});

describe('registryJava', () => {
  it('prefers STREAMSCORE_REGISTRY_JAVA, as a home or a binary', () => {
    assert.deepEqual(registryJava(jdk21, undefined, 21, jvms), { bin: join(jdk21, 'bin', 'java'), major: 21 });
    assert.equal(registryJava(join(jdk21, 'bin', 'java'), jdk25, 21, jvms).major, 21);
  });

  it('refuses an explicit Java that is too old', () => {
    assert.throws(() => registryJava(jdk17, undefined, 21, jvms), /is Java 17; schema-registry needs Java >= 21/);
  });

  it('uses JAVA_HOME only when it is new enough, else the highest installed JDK', () => {
    assert.equal(registryJava(undefined, jdk21, 21, jvms).bin, join(jdk21, 'bin', 'java'));
    assert.equal(registryJava(undefined, jdk17, 21, jvms).bin, join(jdk25, 'bin', 'java'));
  });

  it('says what to install when there is none', () => {
    assert.throws(() => registryJava(undefined, undefined, 30, jvms), /no Java >= 30 found/);
  });
});

describe('kafkaJava', () => {
  it('uses JAVA_HOME and checks its version', () => {
    assert.equal(kafkaJava(jdk17).major, 17);
    assert.throws(() => kafkaJava(jdk17, 21), /needs Java >= 21/);
    assert.throws(() => kafkaJava(join(jvms, 'missing')), /has no bin\/java/);
  });
});
