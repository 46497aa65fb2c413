// The readable tables (or JSON) of `streamscore models list | show | history`.
import { listModels, modelHistory, showModel } from '../streams/runtime/model-registry/history.ts';
import type { MlflowClient } from '../streams/runtime/model-registry/mlflow-client.ts';

/** Left-aligned columns, two spaces apart, with a header row. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)];
}

type Print = (line: string) => void;

export async function printList(client: MlflowClient, json: boolean, print: Print): Promise<void> {
  const models = await listModels(client);
  if (json) return print(JSON.stringify(models));
  if (models.length === 0) return print('no registered models (streamscore models seed registers the committed ones)');
  const aliases = (a: Record<string, string>) => Object.entries(a).map(([k, v]) => `${k}=v${v}`).join(' ') || '-';
  for (const l of table(['MODEL', 'KIND', 'PROCESSOR', 'LATEST', 'ALIASES'], models.map((m) => [m.name, m.kind, m.processor, m.latestVersion ? `v${m.latestVersion}` : '-', aliases(m.aliases)]))) print(l);
}

export async function printShow(client: MlflowClient, name: string, json: boolean, print: Print): Promise<void> {
  const d = await showModel(client, name);
  if (json) return print(JSON.stringify(d));
  print(`${d.name} (${d.kind}, served by ${d.processor})`);
  const last = (v: (typeof d.versions)[number]) => {
    const p = v.promotions.at(-1)?.record;
    return p ? `${p.promoted ? 'promoted' : 'REFUSED'} to ${p.to} by ${p.by} ${p.at.slice(0, 19)}Z` : '-';
  };
  const rows = d.versions.map((v) => [`v${v.version}`, v.modelVersion, v.aliases.join(',') || '-', v.createdAt.slice(0, 19) + 'Z', v.runId.slice(0, 12), v.codeVersion.slice(0, 12) + (v.codeVersion.endsWith('-dirty') ? '-dirty' : ''), last(v)]);
  for (const l of table(['VERSION', 'MODEL VERSION', 'ALIASES', 'REGISTERED', 'RUN', 'CODE', 'LAST PROMOTION'], rows)) print(`  ${l}`);
}

export async function printHistory(client: MlflowClient, name: string, json: boolean, print: Print): Promise<void> {
  const records = await modelHistory(client, name);
  if (json) return print(JSON.stringify(records));
  if (records.length === 0) return print(`${name}: no promotions recorded`);
  for (const r of records) {
    print(`${r.at}  v${r.version} (${r.modelVersion}) -> ${r.to}: ${r.promoted ? 'PROMOTED' : 'REFUSED'} by ${r.by}${r.previous_version ? ` (${r.to} ${r.promoted ? 'was' : 'stays'} v${r.previous_version})` : ''}`);
    print(`    why: ${r.reason}`);
    for (const g of r.gates) print(`    ${g.ok ? 'pass' : 'FAIL'} ${g.name}: ${g.detail}`);
  }
}
