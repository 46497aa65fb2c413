// A registered version's folder on local disk, byte-checked: every file its streamscore.files tag
// lists is fetched from the run's model/ artifacts and its sha256 compared; a complete earlier copy
// is reused. Pipelines then load it with their own loaders, like a committed folder.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MlflowClient, ModelVersion } from './mlflow-client.ts';
import { TAG, tagOf } from './register.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function versionFiles(mv: ModelVersion): Record<string, string> {
  const text = tagOf(mv.tags, TAG.files);
  if (!text) throw new Error(`${mv.name} version ${mv.version} has no ${TAG.files} tag: it was not registered by streamscore models register`);
  return JSON.parse(text) as Record<string, string>;
}

/** Downloads (or reuses) `<cacheDir>/<name>/<version>/`; throws when a file differs from its registered sha256. */
export async function downloadVersion(client: MlflowClient, mv: ModelVersion, cacheDir: string, progress: (line: string) => void = () => {}): Promise<string> {
  const files = versionFiles(mv);
  const dir = join(cacheDir, mv.name, mv.version);
  const complete = existsSync(dir) && Object.entries(files).every(([name, digest]) => existsSync(join(dir, name)) && sha256(readFileSync(join(dir, name))) === digest);
  if (complete) return dir;
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const root = await client.artifactPathOf(mv.source);
  for (const [name, digest] of Object.entries(files)) {
    const bytes = await client.downloadArtifact(`${root}/${name}`);
    if (sha256(bytes) !== digest) throw new Error(`${mv.name} version ${mv.version}: ${name} has sha256 ${sha256(bytes)}, registered as ${digest}`);
    mkdirSync(dirname(join(partial, name)), { recursive: true });
    writeFileSync(join(partial, name), bytes);
    progress(`  downloaded ${name} (${bytes.length} bytes)`);
  }
  // Renamed when whole, so a crash never leaves a folder that looks complete.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(partial, dir);
  return dir;
}
