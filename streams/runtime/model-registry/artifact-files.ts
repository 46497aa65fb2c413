// The files of a model version: every file of its folder with its sha256. The digest list is the
// version's identity (tag streamscore.files): registering the same bytes twice finds the earlier
// version, and a download is checked against it.
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface ArtifactFileEntry {
  /** Path inside the version, with / separators. */
  name: string;
  path: string;
  bytes: number;
}

/** Every regular file under `dir` (recursively, sorted by name); hidden files and __pycache__ are skipped. */
export function listModelFiles(dir: string): ArtifactFileEntry[] {
  const out: ArtifactFileEntry[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const name = relative(dir, path).split(sep).join('/');
    if (name.split('/').some((s) => s.startsWith('.') || s === '__pycache__')) continue;
    out.push({ name, path, bytes: statSync(path).size });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (c) => hash.update(c)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}

/** name -> sha256 of each file, in name order (JSON.stringify of it is stable). */
export async function fileDigests(files: readonly ArtifactFileEntry[]): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const f of files) digests[f.name] = await sha256File(f.path);
  return digests;
}
