// The model-lifecycle part of `npm run demo` (issue #12): a promotion through the policy gates, and
// a replay of the FactoryGuard run the demo just made, compared with what the live scorer published.
// Both run the same commands an operator types (`models register|promote|history`, `replay`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCopy, fixturePolicy, type FixtureName } from '../models/registry-fixtures/fixture-dirs.ts';
import { serviceEnv } from './env.ts';

/** A registered model of its own, so the demo never adds versions to the models the processors serve. */
export const DEMO_MODEL = 'streamscore-demo-failure-model';

async function models(args: string[]): Promise<number> {
  return (await import('./models.ts')).run(args);
}

/**
 * Three small failure models (models/registry-fixtures: trained on synthetic data for this
 * purpose; their PR-AUC on a fixed 300-row evaluation set differs) walk through the gates: the first
 * becomes champion, a worse one is refused as challenger, a better one is accepted.
 */
export async function demoPromotion(say: (line: string) => void): Promise<void> {
  if (!serviceEnv().MLFLOW_TRACKING_URI) {
    say('models: MLFLOW_TRACKING_URI is not set; the promotion demo is skipped');
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'streamscore-demo-models-'));
  try {
    const policy = join(root, 'policy.json');
    writeFileSync(policy, JSON.stringify(fixturePolicy(DEMO_MODEL)));
    say('');
    say(`== model promotion (registered model ${DEMO_MODEL}; gates of models/policy/ applied to three fixture versions) ==`);
    const version = async (fixture: FixtureName): Promise<string> => {
      const dir = fixtureCopy(fixture, DEMO_MODEL, root);
      const { registerFolder } = await import('./models.ts');
      const r = await registerFolder('failure', dir);
      say(`$ streamscore models register failure <${fixture}>   -> version ${r.version}${r.created ? '' : ' (registered by an earlier demo)'}`);
      return r.version;
    };
    const promote = async (v: string, to: string, why: string) => {
      say(`$ streamscore models promote ${DEMO_MODEL} ${v} --to ${to} --reason "${why}"`);
      await models(['promote', DEMO_MODEL, v, '--to', to, '--reason', why, '--by', 'demo', '--policy', policy]);
    };
    await promote(await version('champion'), 'champion', 'first version');
    await promote(await version('worse'), 'challenger', 'candidate from a retraining');
    await promote(await version('good'), 'challenger', 'candidate from a retraining');
    say(`$ streamscore models history ${DEMO_MODEL}`);
    await models(['history', DEMO_MODEL]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** `streamscore replay maintenance-scorer` over the records the demo's scorer just took in. */
export async function demoReplay(range: { fromMs: number; toMs: number }, say: (line: string) => void): Promise<void> {
  say('');
  say('== replay of the FactoryGuard run above (same handler, scratch state, the live chunks cut again) ==');
  const args = ['maintenance-scorer', '--from', new Date(range.fromMs).toISOString(), '--to', new Date(range.toMs).toISOString(), '--warm-up', '1s'];
  say(`$ streamscore replay ${args.join(' ')}`);
  const code = await (await import('./replay.ts')).run(args);
  if (code !== 0) say(`(replay exited ${code})`);
}
