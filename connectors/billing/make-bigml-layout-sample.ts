// Writes connectors/samples/churn-bigml-layout-sample.csv: a synthetic churn table of our own in the
// exact column layout of the public BigML / Orange telecom churn table (churn-bigml-80.csv), so the
// bigml-orange mapping is checked against that layout without the dataset (we do not ship or
// download it). Marginals are set near the public table's (account length ~100 days, ~180 day
// minutes, ~10 % international plans, ~1.5 service calls); churn is drawn from a logistic model in
// the three signals that table is known for: four or more customer service calls, the
// international plan and many day minutes (and less with a voice-mail plan). Seeded: the same seed
// and row count give the same file.
//
//   node connectors/billing/make-bigml-layout-sample.ts [--rows 600] [--seed 11] [--out FILE]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { Rng, mixSeed } from '../../streams/runtime/random.ts';
import { poisson } from './subscriber-model.ts';

export const BIGML_LAYOUT_SAMPLE = join(REPO_ROOT, 'connectors', 'samples', 'churn-bigml-layout-sample.csv');
export const BIGML_COLUMNS = [
  'State', 'Account length', 'Area code', 'International plan', 'Voice mail plan', 'Number vmail messages',
  'Total day minutes', 'Total day calls', 'Total day charge', 'Total eve minutes', 'Total eve calls', 'Total eve charge',
  'Total night minutes', 'Total night calls', 'Total night charge', 'Total intl minutes', 'Total intl calls', 'Total intl charge',
  'Customer service calls', 'Churn',
] as const;
const STATES = ('AK AL AR AZ CA CO CT DC DE FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS MT NC ND NE NH NJ NM NV NY OH OK OR PA RI SC SD TN TX UT VA VT WA WI WV WY').split(' ');
const AREA_CODES = [408, 415, 510];
/** Price per minute of each period, as in the public table (charge = minutes x rate). */
const RATE = { day: 0.17, eve: 0.085, night: 0.045, intl: 0.27 };

/** Churn log-odds of one customer: the three signals of the public table. */
export function churnLogOdds(c: { serviceCalls: number; intlPlan: boolean; voiceMail: boolean; dayMinutes: number }): number {
  return -2.8 + 2.6 * (c.serviceCalls >= 4 ? 1 : 0) + 2.0 * (c.intlPlan ? 1 : 0) + 0.022 * (c.dayMinutes - 180) - 0.7 * (c.voiceMail ? 1 : 0);
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const fixed = (v: number, digits: number) => v.toFixed(digits);

/** Row `i` of the table for `seed`, as CSV fields in BIGML_COLUMNS order. */
export function bigmlLayoutRow(seed: number, i: number): string[] {
  const r = new Rng(mixSeed(seed, i));
  const state = STATES[Math.floor(r.uniform() * STATES.length)];
  const accountLength = Math.round(clamp(101 + 40 * r.normal(), 1, 243));
  const areaCode = AREA_CODES[Math.floor(r.uniform() * AREA_CODES.length)];
  const intlPlan = r.uniform() < 0.1;
  const voiceMail = r.uniform() < 0.27;
  const vmailMessages = voiceMail ? Math.round(clamp(29 + 8 * r.normal(), 4, 51)) : 0;
  const minutes = (mean: number, sd: number) => Math.round(clamp(mean + sd * r.normal(), 0, mean * 2.2) * 10) / 10;
  const calls = (mean: number) => poisson(mean, r.uniform());
  const day = minutes(180, 54);
  const dayCalls = calls(100);
  const eve = minutes(201, 50);
  const eveCalls = calls(100);
  const night = minutes(200, 50);
  const nightCalls = calls(100);
  const intl = minutes(10.2, 2.8);
  const intlCalls = calls(4.5);
  const serviceCalls = poisson(1.55, r.uniform());
  const p = 1 / (1 + Math.exp(-churnLogOdds({ serviceCalls, intlPlan, voiceMail, dayMinutes: day })));
  const churn = r.uniform() < p;
  const yesNo = (b: boolean) => (b ? 'Yes' : 'No');
  return [
    state, String(accountLength), String(areaCode), yesNo(intlPlan), yesNo(voiceMail), String(vmailMessages),
    fixed(day, 1), String(dayCalls), fixed(day * RATE.day, 2), fixed(eve, 1), String(eveCalls), fixed(eve * RATE.eve, 2),
    fixed(night, 1), String(nightCalls), fixed(night * RATE.night, 2), fixed(intl, 1), String(intlCalls), fixed(intl * RATE.intl, 2),
    String(serviceCalls), churn ? 'True' : 'False',
  ];
}

/** The whole table as CSV text (header + `rows` rows). */
export function bigmlLayoutCsv(rows: number, seed: number): string {
  const lines = [BIGML_COLUMNS.join(',')];
  for (let i = 0; i < rows; i++) lines.push(bigmlLayoutRow(seed, i).join(','));
  return `${lines.join('\n')}\n`;
}

export const SAMPLE_ROWS = 600;
export const SAMPLE_SEED = 11;

if (import.meta.main) {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' } } });
  const rows = Number(values.rows ?? SAMPLE_ROWS);
  const seed = Number(values.seed ?? SAMPLE_SEED);
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(seed)) throw new Error('--rows and --seed must be whole numbers (rows >= 1)');
  const out = values.out ?? BIGML_LAYOUT_SAMPLE;
  writeFileSync(out, bigmlLayoutCsv(rows, seed));
  process.stdout.write(`wrote ${rows} rows to ${out}\n`);
}
