// What a Spark daemon or a PySpark job needs to run: the venv's Python with pyspark (whose package
// directory is SPARK_HOME: it carries bin/spark-class and the jars) and a JVM Spark 4 supports.
// An ambient SPARK_HOME is ignored on purpose: a full Spark distribution of another version next to
// the pinned pyspark would mix jars and Python code.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LOOPBACK } from '../stack/config.ts';
import { StackError } from '../stack/errors.ts';
import { javaMajorFromRelease } from '../stack/java.ts';
import { findOnPath } from '../stack/process.ts';
import type { SparkConfig } from './config.ts';

/** Java feature versions Spark 4.0 runs on ("Java 17/21"). */
export const SPARK_JAVA_MIN = 17;
export const SPARK_JAVA_MAX = 21;

const BOOTSTRAP_HINT = 'bash infra/bootstrap.sh (creates .venv with pyspark from models/churn/requirements.txt)';

export interface PysparkRuntime {
  python: string;
  sparkHome: string;
  pysparkVersion: string;
  javaHome: string;
  javaMajor: number | null;
}

const cache = new Map<string, PysparkRuntime>();

/** Finds pyspark in `config.python` and a suitable JDK; throws StackError with the fix. Cached per python + JAVA_HOME. */
export function pysparkRuntime(config: SparkConfig): PysparkRuntime {
  const key = `${config.python}\0${config.javaHome ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const sparkHome = pysparkHome(config.python);
  const java = sparkJavaHome(config.javaHome);
  const runtime: PysparkRuntime = { python: config.python, sparkHome, pysparkVersion: pysparkVersion(sparkHome), javaHome: java.home, javaMajor: java.major };
  cache.set(key, runtime);
  return runtime;
}

function pysparkHome(python: string): string {
  if (!existsSync(python)) {
    throw new StackError(`no Python at ${python} (the project venv with pyspark)`, { hint: BOOTSTRAP_HINT });
  }
  let out: string;
  try {
    // find_spec locates the package without importing it (importing pyspark takes ~1 s).
    out = execFileSync(python, ['-c', 'import importlib.util as u, os; s = u.find_spec("pyspark"); print(os.path.dirname(s.origin) if s and s.origin else "")'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).trim();
  } catch (err) {
    throw new StackError(`${python} could not be run to locate pyspark: ${(err as Error).message.split('\n')[0]}`, { hint: BOOTSTRAP_HINT, cause: err });
  }
  if (out === '') throw new StackError(`pyspark is not installed in ${python}`, { hint: BOOTSTRAP_HINT });
  if (!existsSync(join(out, 'bin', 'spark-class'))) {
    throw new StackError(`${out} has no bin/spark-class: that pyspark cannot run a standalone cluster (pyspark-client / pyspark-connect lack Spark itself)`, { hint: BOOTSTRAP_HINT });
  }
  return out;
}

function pysparkVersion(sparkHome: string): string {
  try {
    return /__version__[^=]*=\s*['"]([^'"]+)['"]/.exec(readFileSync(join(sparkHome, 'version.py'), 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function majorOfHome(home: string): number | null {
  try {
    return javaMajorFromRelease(readFileSync(join(home, 'release'), 'utf8'));
  } catch {
    return null;
  }
}

const supported = (major: number | null) => major === null || (major >= SPARK_JAVA_MIN && major <= SPARK_JAVA_MAX);

/**
 * JAVA_HOME when it is a JDK Spark supports, else the JDK of `java` on PATH, else the newest
 * supported JDK under `jvmDir`. A JAVA_HOME outside 17-21 (e.g. a Java 25 set for something else)
 * is passed over rather than fatal; the error lists what was found when nothing fits.
 */
export function sparkJavaHome(javaHome: string | undefined, pathEnv = process.env.PATH ?? '', jvmDir = '/usr/lib/jvm'): { home: string; major: number | null } {
  const seen: string[] = [];
  const consider = (home: string): { home: string; major: number | null } | null => {
    if (!existsSync(join(home, 'bin', 'java'))) return null;
    const major = majorOfHome(home);
    seen.push(`${home} (Java ${major ?? '?'})`);
    return supported(major) ? { home, major } : null;
  };
  if (javaHome !== undefined) {
    const found = consider(javaHome);
    if (found) return found;
  }
  const onPath = findOnPath('java', pathEnv);
  if (onPath !== null) {
    const found = consider(dirname(dirname(realpathSync(onPath))));
    if (found) return found;
  }
  let names: string[] = [];
  try {
    names = readdirSync(jvmDir);
  } catch {
    // no JVM directory on this machine
  }
  const candidates = names.map((n) => join(jvmDir, n)).map((home) => ({ home, major: majorOfHome(home) }))
    .filter((c) => c.major !== null && supported(c.major) && existsSync(join(c.home, 'bin', 'java')))
    .sort((a, b) => (b.major ?? 0) - (a.major ?? 0));
  if (candidates.length > 0) return candidates[0];
  throw new StackError(`no Java ${SPARK_JAVA_MIN}-${SPARK_JAVA_MAX} for Spark found${seen.length ? `; found ${seen.join(', ')}` : ''}`, {
    hint: `apt-get install -y openjdk-17-jre-headless, or set JAVA_HOME to a JDK ${SPARK_JAVA_MIN} or ${SPARK_JAVA_MAX}`,
  });
}

/**
 * Environment a PySpark job (the venv python running a SparkSession) needs, to be merged over
 * process.env. For the embedded cluster the driver binds 127.0.0.1 like the daemons; for an
 * external cluster the driver must be reachable from remote executors, so SPARK_LOCAL_IP is left
 * to the caller's environment.
 */
export function submitEnv(config: SparkConfig, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const runtime = pysparkRuntime(config);
  const out: Record<string, string> = {
    SPARK_HOME: runtime.sparkHome,
    JAVA_HOME: runtime.javaHome,
    PYSPARK_PYTHON: runtime.python,
    PYSPARK_DRIVER_PYTHON: runtime.python,
  };
  if (config.cluster.managed === 'embedded') {
    out.SPARK_LOCAL_IP = LOOPBACK;
    // Without it Spark names the driver "localhost" (the reverse lookup of 127.0.0.1), which may
    // resolve to ::1 first.
    out.SPARK_LOCAL_HOSTNAME = LOOPBACK;
  } else {
    // Remote executors run their own Python: the caller's PYSPARK_PYTHON names it when this
    // machine's venv path does not exist there.
    if (env.PYSPARK_PYTHON) out.PYSPARK_PYTHON = env.PYSPARK_PYTHON;
    if (env.SPARK_LOCAL_IP) out.SPARK_LOCAL_IP = env.SPARK_LOCAL_IP;
    if (env.SPARK_LOCAL_HOSTNAME) out.SPARK_LOCAL_HOSTNAME = env.SPARK_LOCAL_HOSTNAME;
  }
  return out;
}
