// The local copy of registered model versions: `.cache/models/<name>/<version>/`, one directory per
// MLflow version, holding exactly the files the version's `streamscore.files` tag lists (a JSON
// object: relative path -> hex sha256, written by `models register`). A version is downloaded into
// a temporary directory beside its final place, every file checked against the tag, and renamed
// into place in one step, so a reader never sees half a model and a crash leaves only a temp dir.
// A file whose bytes differ from the tag is refused: the registry's record of what was approved
// wins over whatever the artifact store holds. A cached copy is checked again each time it is used.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MlflowClient, ModelVersion } from './mlflow-client.ts';

/** The version tag that lists a version's files and their sha256. */
export const FILES_TAG = 'streamscore.files';

/** `.cache/models/` at the repository root (where the stack caches its downloads too). */
export const DEFAULT_MODEL_CACHE_DIR = fileURLToPath(new URL('../../../.cache/models/', import.meta.url));

export class ModelArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelArtifactError';
  }
}

/** The `streamscore.files` manifest of a version, checked: relative paths (no `..`, not absolute) to 64-hex sha256. */
export function parseFilesTag(model: string, version: string, value: string | undefined): Record<string, string> {
  const what = `${model} version ${version}`;
  if (value === undefined) throw new ModelArtifactError(`${what} has no ${FILES_TAG} tag (the sha256 of each file): register it with \`streamscore models register\`, which sets it`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new ModelArtifactError(`${what}: the ${FILES_TAG} tag is not JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ModelArtifactError(`${what}: the ${FILES_TAG} tag must be a JSON object of relative path -> sha256`);
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length === 0) throw new ModelArtifactError(`${what}: the ${FILES_TAG} tag lists no files`);
  const problems: string[] = [];
  for (const [path, sha] of entries) {
    const segments = path.split('/');
    if (path.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..')) problems.push(`${JSON.stringify(path)} is not a plain relative path`);
    if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) problems.push(`${JSON.stringify(path)}: ${JSON.stringify(sha)} is not a lowercase hex sha256`);
  }
  if (problems.length) throw new ModelArtifactError(`${what}: the ${FILES_TAG} tag is not usable:\n  - ${problems.join('\n  - ')}`);
  return Object.fromEntries(entries) as Record<string, string>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface ArtifactCacheOptions {
  client: MlflowClient;
  /** Root of the cache; DEFAULT_MODEL_CACHE_DIR unless STREAMSCORE_MODEL_CACHE_DIR or a test says otherwise. */
  dir?: string;
}

export class ArtifactCache {
  readonly dir: string;
  private readonly client: MlflowClient;

  constructor(o: ArtifactCacheOptions) {
    this.client = o.client;
    this.dir = o.dir ?? DEFAULT_MODEL_CACHE_DIR;
  }

  /** Where a version lives in the cache (whether or not it is there yet). */
  pathOf(name: string, version: string): string {
    return join(this.dir, name, version);
  }

  /**
   * The local directory of a registered version: the cached copy if its files still match the tag,
   * else a fresh download, checked and renamed into place. Throws ModelArtifactError on a mismatch.
   */
  async fetch(mv: ModelVersion): Promise<string> {
    const files = parseFilesTag(mv.name, mv.version, mv.tags?.find((t) => t.key === FILES_TAG)?.value);
    const final = this.pathOf(mv.name, mv.version);
    if (existsSync(final) && (await mismatches(final, files)).length === 0) return final;

    const base = await this.client.artifactPathOf(mv.source);
    const temp = join(dirname(final), `.${mv.version}.download-${process.pid}-${randomUUID().slice(0, 8)}`);
    try {
      for (const [path, sha] of Object.entries(files)) {
        const bytes = await this.client.downloadArtifact(`${base}/${path}`);
        const got = sha256Hex(bytes);
        if (got !== sha) throw new ModelArtifactError(`${mv.name} version ${mv.version}: ${path} has sha256 ${got}, but the ${FILES_TAG} tag says ${sha}; refusing to serve it (the artifact store does not hold what was registered)`);
        await mkdir(dirname(join(temp, path)), { recursive: true });
        await writeFile(join(temp, path), bytes);
      }
      await this.place(temp, final, files);
      return final;
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /** Renames the checked download into place; a stale or corrupt copy there is moved aside first. */
  private async place(temp: string, final: string, files: Record<string, string>): Promise<void> {
    if (existsSync(final)) {
      // Another process may have placed a good copy meanwhile: keep it rather than race it.
      if ((await mismatches(final, files)).length === 0) return;
      const aside = `${temp}.stale`;
      await rename(final, aside);
      await rm(aside, { recursive: true, force: true });
    }
    try {
      await rename(temp, final);
    } catch (err) {
      // Lost a race with another process placing the same version: fine if what it placed is good.
      if (existsSync(final) && (await mismatches(final, files)).length === 0) return;
      throw err;
    }
  }
}

/** The listed files of `dir` that are missing or whose sha256 differs from the manifest. */
export async function mismatches(dir: string, files: Record<string, string>): Promise<string[]> {
  const bad: string[] = [];
  for (const [path, sha] of Object.entries(files)) {
    try {
      if (sha256Hex(await readFile(join(dir, path))) !== sha) bad.push(path);
    } catch {
      bad.push(path);
    }
  }
  return bad;
}

/** The `streamscore.files` value of a local model directory's files (what `models register` tags; tests use it). */
export async function filesManifest(dir: string, relativePaths: string[]): Promise<string> {
  const manifest: Record<string, string> = {};
  for (const p of [...relativePaths].sort()) manifest[p] = sha256Hex(await readFile(join(dir, p)));
  return JSON.stringify(manifest);
}
