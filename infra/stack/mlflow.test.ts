import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT, loadStackConfig } from './config.ts';
import { StackError } from './errors.ts';
import { mlflowService, pinnedMlflowVersion } from './mlflow.ts';

describe('pinnedMlflowVersion', () => {
  it('reads the mlflow pin of the lock the stack installs', () => {
    assert.equal(pinnedMlflowVersion('# comment\nmlflow==3.17.2\nmlflow-skinny==3.17.2\n'), '3.17.2');
    assert.match(pinnedMlflowVersion(readFileSync(join(REPO_ROOT, 'infra', 'mlflow', 'requirements.txt'), 'utf8')), /^\d+\.\d+\.\d+$/);
    assert.throws(() => pinnedMlflowVersion('mlflow-skinny==3.17.2\n'), /has no `mlflow==VERSION` line/);
  });
});

describe('mlflow ensureInstalled', () => {
  const repo = mkdtempSync(join(tmpdir(), 'streamscore-mlflow-install-'));
  after(() => rmSync(repo, { recursive: true, force: true }));
  const config = loadStackConfig({}, repo);
  const failure = async () => {
    try {
      await mlflowService.ensureInstalled(config, () => {});
    } catch (err) {
      assert.ok(err instanceof StackError);
      return err;
    }
    return null;
  };
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  it('points at bootstrap (or an external server) when .venv lacks mlflow or holds another lock than the checkout', async () => {
    const missing = await failure();
    assert.equal(missing?.message, `mlflow: ${repo}/.venv/bin/mlflow is missing`);
    assert.match(missing?.hint ?? '', /bash infra\/bootstrap\.sh.*or set MLFLOW_TRACKING_URI/);

    mkdirSync(join(repo, '.venv', 'bin'), { recursive: true });
    writeFileSync(join(repo, '.venv', 'bin', 'mlflow'), '#!/bin/sh\n');
    mkdirSync(join(repo, 'infra', 'mlflow'), { recursive: true });
    writeFileSync(join(repo, 'infra', 'mlflow', 'requirements.txt'), 'mlflow==3.17.2\n');
    assert.equal((await failure())?.message, 'mlflow: infra/mlflow/requirements.txt was not installed into .venv by bootstrap');

    // bootstrap.sh's stamp: the sha256 of the file it installed.
    const stamp = join(repo, '.venv', '.infra_mlflow_requirements.txt.sha256');
    writeFileSync(stamp, `${sha256('mlflow==3.17.1\n')}\n`);
    assert.equal((await failure())?.message, 'mlflow: infra/mlflow/requirements.txt changed since bootstrap installed it into .venv');
    writeFileSync(stamp, `${sha256('mlflow==3.17.2\n')}\n`);
    assert.equal(await failure(), null);
  });
});
