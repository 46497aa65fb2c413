// Finding a JVM of a minimum feature version without running it: a JDK's `release` file states
// JAVA_VERSION. Kafka 4.x needs Java >= 17; Apicurio Registry 3.3 is compiled for Java 21.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StackError } from './errors.ts';
import type { ServiceName } from './errors.ts';
import { findOnPath } from './process.ts';

export interface Java {
  /** Path to the java binary. */
  bin: string;
  /** Feature version (17, 21, 25...), or null when it could not be read. */
  major: number | null;
}

/** `JAVA_VERSION="17.0.15"` -> 17, `"1.8.0_392"` -> 8, `"25"` -> 25. */
export function javaMajorFromRelease(text: string): number | null {
  const m = /^JAVA_VERSION="?([0-9]+)(?:\.([0-9]+))?/m.exec(text);
  if (!m) return null;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

function majorOfHome(home: string): number | null {
  try {
    return javaMajorFromRelease(readFileSync(join(home, 'release'), 'utf8'));
  } catch {
    return null;
  }
}

/** The JDK home of a java binary (resolving /usr/bin/java -> /etc/alternatives -> ...). */
function homeOfBinary(bin: string): string {
  return dirname(dirname(realpathSync(bin)));
}

/** A JDK home or a java binary path -> Java. */
function javaAt(path: string): Java | null {
  if (!existsSync(path)) return null;
  const bin = statSync(path).isDirectory() ? join(path, 'bin', 'java') : path;
  if (!existsSync(bin)) return null;
  return { bin, major: majorOfHome(homeOfBinary(bin)) };
}

/** Installed JDKs under `jvmDir` with their versions, highest first. */
export function scanJvms(jvmDir = '/usr/lib/jvm'): Java[] {
  let names: string[];
  try {
    names = readdirSync(jvmDir);
  } catch {
    return [];
  }
  const found: Java[] = [];
  for (const name of names) {
    const home = join(jvmDir, name);
    const major = majorOfHome(home);
    if (major !== null && existsSync(join(home, 'bin', 'java'))) found.push({ bin: join(home, 'bin', 'java'), major });
  }
  return found.sort((a, b) => (b.major ?? 0) - (a.major ?? 0));
}

/**
 * Java for Kafka: JAVA_HOME if set, else `java` on PATH. Fails when none is found, or when its
 * `release` file names a version below `min` (an unreadable version is trusted).
 */
export function kafkaJava(javaHome: string | undefined, min = 17): Java {
  const java = javaHome !== undefined ? javaAt(javaHome) : (() => {
    const bin = findOnPath('java');
    return bin === null ? null : { bin, major: majorOfHome(homeOfBinary(bin)) };
  })();
  if (java === null) {
    throw new StackError(javaHome !== undefined ? `JAVA_HOME=${javaHome} has no bin/java` : 'no `java` on PATH', {
      service: 'kafka',
      hint: `Kafka needs Java >= ${min}: apt-get install -y openjdk-17-jre-headless (or set JAVA_HOME)`,
    });
  }
  return checkMajor(java, min, 'kafka', 'set JAVA_HOME to a JDK 17 or newer');
}

/**
 * Java for the registry (>= 21): STREAMSCORE_REGISTRY_JAVA (a JDK home or a java binary), else
 * JAVA_HOME when it is new enough, else the highest JDK >= 21 under /usr/lib/jvm.
 */
export function registryJava(explicit: string | undefined, javaHome: string | undefined, min = 21, jvmDir = '/usr/lib/jvm'): Java {
  const hint = `Apicurio Registry needs Java >= ${min} (Debian 12's apt has only OpenJDK 17): install a JDK ${min}+ such as Eclipse Temurin under ${jvmDir}, or set STREAMSCORE_REGISTRY_JAVA to its home`;
  if (explicit !== undefined) {
    const java = javaAt(explicit);
    if (java === null) throw new StackError(`STREAMSCORE_REGISTRY_JAVA=${explicit} is neither a JDK home nor a java binary`, { service: 'schema-registry', hint });
    return checkMajor(java, min, 'schema-registry', hint);
  }
  if (javaHome !== undefined) {
    const java = javaAt(javaHome);
    if (java !== null && java.major !== null && java.major >= min) return java;
  }
  const best = scanJvms(jvmDir).find((j) => (j.major ?? 0) >= min);
  if (best) return best;
  throw new StackError(`no Java >= ${min} found (looked at STREAMSCORE_REGISTRY_JAVA, JAVA_HOME, ${jvmDir}/*/release)`, { service: 'schema-registry', hint });
}

function checkMajor(java: Java, min: number, service: ServiceName, hint: string): Java {
  if (java.major !== null && java.major < min) {
    throw new StackError(`${java.bin} is Java ${java.major}; ${service} needs Java >= ${min}`, { service, hint });
  }
  return java;
}
