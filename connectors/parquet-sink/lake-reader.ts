// Reads lake files back into Arrow (parquet-wasm -> Arrow IPC -> apache-arrow): for tests, the
// benchmarks and tools that check what the sink wrote without starting Spark.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import * as parquet from 'parquet-wasm';

export function readParquetFile(path: string): Table {
  return tableFromIPC(parquet.readParquet(readFileSync(path)).intoIPCStream());
}

/** Final Parquet files (not temp files) of a Hive-partitioned dataset, with their partition directory. */
export function datasetFiles(datasetDir: string): { partition: string; path: string }[] {
  const out: { partition: string; path: string }[] = [];
  let dirs: string[] = [];
  try {
    dirs = readdirSync(datasetDir).filter((d) => d.includes('=')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const d of dirs) {
    for (const name of readdirSync(join(datasetDir, d)).sort()) {
      if (name.endsWith('.parquet') && !name.startsWith('.')) out.push({ partition: d, path: join(datasetDir, d, name) });
    }
  }
  return out;
}
