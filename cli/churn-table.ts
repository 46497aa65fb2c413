// `streamscore churn train --table FILE --mapping M`: another operator's churn table through its
// mapping into a lake of its own, the churn PipelineModel trained on it, and every customer scored
// or reported — table -> events -> lake (connectors/billing/table-to-lake.ts) -> train.py -> score.py,
// all under one work directory (default .data/churn-table/<mapping>/), away from the committed model.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { loadCustomerMapping } from '../connectors/billing/customer-mapping.ts';
import { tableToLake } from '../connectors/billing/table-to-lake.ts';
import type { Logger } from '../streams/runtime/logger.ts';

export interface ChurnTableOptions {
  table: string;
  mapping: string;
  /** Default <repo>/.data/churn-table/<mapping name>. */
  workDir?: string;
  /** Default <work>/lake. */
  lakeDir?: string;
  /** YYYY-MM-DD; default the mapping's cut-off. */
  cutoff?: string;
  grid?: string;
  /** Cross-validation folds (train.py --folds, default 3). */
  folds?: number;
  master: string;
  log: Logger;
  /** Runs a models/churn program; resolves with its exit code (cli/churn.ts runSparkJob). */
  runJob: (script: string, args: string[], lakeDir: string) => Promise<number>;
}

export interface ChurnTableResult {
  table: string;
  mapping: string;
  rows: number;
  rejected: number;
  events: number;
  cutoff: string;
  model: string | null;
  heldout: { areaUnderROC: number; areaUnderPR: number; users: number; positives: number } | null;
  scored: number | null;
  unscored: number | null;
  unscoredByReason: Record<string, number>;
  work: string;
  /** Which step failed, when one did. */
  failed?: 'train' | 'score';
}

type Meta = { model_name: string; chosen: string; metrics: Record<string, { heldout: { areaUnderROC: number; areaUnderPR: number } }>; class_balance: { heldout: { users: number; positives: number } } };

export async function trainOnTable(o: ChurnTableOptions): Promise<ChurnTableResult> {
  const mapping = loadCustomerMapping(o.mapping);
  const work = resolve(o.workDir ?? join(REPO_ROOT, '.data', 'churn-table', mapping.name));
  const lakeDir = resolve(o.lakeDir ?? join(work, 'lake'));
  const modelDir = join(work, 'model');
  mkdirSync(modelDir, { recursive: true });
  const cutoff = o.cutoff ? Date.parse(`${o.cutoff}T00:00:00Z`) : undefined;
  const lake = await tableToLake({ table: o.table, mapping, lakeDir, rejectsFile: join(work, 'rejects.jsonl'), cutoff, log: o.log });
  const result: ChurnTableResult = {
    table: o.table, mapping: mapping.name, rows: lake.rows, rejected: lake.rejected, events: lake.events, cutoff: lake.cutoff,
    model: null, heldout: null, scored: null, unscored: null, unscoredByReason: {}, work,
  };
  const spark = ['--master', o.master, '--lake', lakeDir, '--no-ui'];
  const trained = await o.runJob('train.py', [
    ...spark, '--cutoff', lake.cutoff, '--grid', o.grid ?? 'default', '--out', modelDir, '--card', join(modelDir, 'MODEL_CARD.md'),
    '--labels-from-table', '--no-profile', ...(o.folds ? ['--folds', String(o.folds)] : []),
    '--data-description', `the customer table ${o.table} through the mapping ${mapping.name} (connectors/mappings/customers/), as event histories up to ${lake.cutoff}`,
  ], lakeDir);
  if (trained !== 0) return { ...result, failed: 'train' };
  const meta = JSON.parse(readFileSync(join(modelDir, 'model-meta.json'), 'utf8')) as Meta;
  const held = meta.metrics[meta.chosen].heldout;
  result.model = meta.model_name;
  result.heldout = { areaUnderROC: held.areaUnderROC, areaUnderPR: held.areaUnderPR, users: meta.class_balance.heldout.users, positives: meta.class_balance.heldout.positives };
  const summaryFile = join(work, 'score-summary.json');
  // A table is a snapshot: its last event date says nothing about a sink catching up.
  const scored = await o.runJob('score.py', [...spark, '--date', lake.cutoff, '--model-dir', modelDir, '--allow-stale-lake', '--summary-out', summaryFile], lakeDir);
  if (scored !== 0) return { ...result, failed: 'score' };
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as { users_scored: number; users_unscored: number; unscored_by_reason: Record<string, number> };
  return { ...result, scored: summary.users_scored, unscored: summary.users_unscored, unscoredByReason: summary.unscored_by_reason };
}

/** The lines the command prints: what went where, the held-out AUCs, and the scored / reported counts. */
export function describeResult(r: ChurnTableResult): string[] {
  const lines = [`${r.table}: ${r.rows} rows through ${r.mapping} -> ${r.rows - r.rejected} customers, ${r.events.toLocaleString('en-US')} events in the lake (cut-off ${r.cutoff}); ${r.rejected} rows rejected (${join(r.work, 'rejects.jsonl')})`];
  if (r.heldout) lines.push(`${r.model}: held-out AUC-ROC ${r.heldout.areaUnderROC.toFixed(4)} AUC-PR ${r.heldout.areaUnderPR.toFixed(4)} (${r.heldout.users} held-out customers, ${r.heldout.positives} churners)`);
  if (r.scored !== null) {
    const reasons = Object.entries(r.unscoredByReason).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`scored ${r.scored}, reported ${r.rejected + (r.unscored ?? 0)} (rejected ${r.rejected}, not scored ${r.unscored}${reasons ? `: ${reasons}` : ''}) of ${r.rows} rows`);
  }
  if (r.failed) lines.push(`${r.failed === 'train' ? 'train.py' : 'score.py'} failed; its output is above`);
  return lines;
}
