// The MLflow client's error mapping, retries and auth, against a local HTTP server that answers
// what a tracking server (or a proxy in front of one) can answer. The real server's shapes are
// pinned by mlflow-client.test.ts.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MlflowClient, MlflowError, isNotFound, mlflowAuthHeaders, mlflowErrorOf } from './mlflow-client.ts';

describe('mlflowErrorOf', () => {
  it("keeps MLflow's error_code and message; 4xx is not retriable, 5xx and 429 are", () => {
    const notFound = mlflowErrorOf(404, '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Registered Model with name=zz not found"}', 'GET /api/2.0/mlflow/registered-models/get');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.errorCode, 'RESOURCE_DOES_NOT_EXIST');
    assert.equal(notFound.retriable, false);
    assert.ok(isNotFound(notFound));
    assert.equal(notFound.message, 'MLflow answered 404 RESOURCE_DOES_NOT_EXIST to GET /api/2.0/mlflow/registered-models/get: Registered Model with name=zz not found');

    assert.equal(mlflowErrorOf(400, '{"error_code": "INVALID_PARAMETER_VALUE", "message": "x"}', 'r').retriable, false);
    assert.equal(mlflowErrorOf(429, '', 'r').retriable, true);
    assert.equal(mlflowErrorOf(503, '', 'r').retriable, true);
    assert.equal(mlflowErrorOf(500, '{"error_code": "INTERNAL_ERROR", "message": "db locked"}', 'r').errorCode, 'INTERNAL_ERROR');
  });

  it("keeps a proxy's non-JSON answer as text and names the auth variables on 401/403", () => {
    const proxy = mlflowErrorOf(502, '<html>Bad Gateway</html>', 'POST /x');
    assert.equal(proxy.errorCode, null);
    assert.match(proxy.message, /502 to POST \/x: <html>Bad Gateway<\/html>/);
    assert.match(mlflowErrorOf(401, '', 'GET /x').message, /\(empty body\) \(check MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME\/_PASSWORD\)/);
  });
});

describe('mlflowAuthHeaders', () => {
  it('sends MLflow\'s own credentials: a token as Bearer, a user and password as Basic, never both', () => {
    assert.deepEqual(mlflowAuthHeaders({}), {});
    assert.deepEqual(mlflowAuthHeaders({ MLFLOW_TRACKING_TOKEN: 't0k' }), { authorization: 'Bearer t0k' });
    assert.deepEqual(mlflowAuthHeaders({ MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: 'pw' }), { authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}` });
    assert.throws(() => mlflowAuthHeaders({ MLFLOW_TRACKING_TOKEN: 't', MLFLOW_TRACKING_USERNAME: 'u' }), /either MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/);
  });
});

describe('MlflowClient over HTTP', () => {
  /** Answers queued per test, in order; every request is recorded. */
  let answers: { status: number; body: string; delayMs?: number }[] = [];
  const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let server: Server;
  let base = '';

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const a = answers.shift() ?? { status: 500, body: 'no answer queued' };
        setTimeout(() => res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body), a.delayMs ?? 0);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const fresh = (answersForTest: typeof answers, options: Partial<ConstructorParameters<typeof MlflowClient>[0]> = {}) => {
    answers = answersForTest;
    seen.length = 0;
    return new MlflowClient({ trackingUri: base, attempts: 3, maxRetryMs: 5_000, env: {}, ...options });
  };

  it('retries a 503 and then succeeds; the request went out each time with its JSON body', async () => {
    const client = fresh([{ status: 503, body: '' }, { status: 200, body: '{"experiment_id": "7"}' }]);
    assert.equal(await client.createExperiment('e'), '7');
    assert.equal(seen.length, 2);
    assert.deepEqual(seen.map((r) => [r.method, r.url, JSON.parse(r.body).name]), [['POST', '/api/2.0/mlflow/experiments/create', 'e'], ['POST', '/api/2.0/mlflow/experiments/create', 'e']]);
  });

  it('gives up on a lasting 5xx with an MlflowError that keeps the status and says how often it tried', async () => {
    const client = fresh([1, 2, 3].map(() => ({ status: 500, body: '{"error_code": "INTERNAL_ERROR", "message": "database is locked"}' })));
    await assert.rejects(client.getRun('r1'), (err: unknown) => {
      assert.ok(err instanceof MlflowError);
      assert.equal(err.status, 500);
      assert.equal(err.errorCode, 'INTERNAL_ERROR');
      assert.equal(err.retriable, true);
      assert.match(err.message, /gave up reading run r1 after 3 attempt\(s\).*database is locked/);
      return true;
    });
    assert.equal(seen.length, 3);
  });

  it('does not retry a 4xx', async () => {
    const client = fresh([{ status: 400, body: '{"error_code": "INVALID_PARAMETER_VALUE", "message": "bad"}' }]);
    await assert.rejects(client.setAlias('m', 'a', '1'), (err: unknown) => err instanceof MlflowError && err.status === 400 && !err.retriable);
    assert.equal(seen.length, 1);
  });

  it('maps "not found" to null where the client says so, and a timeout to a retriable error without status', async () => {
    const notFound = '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no"}';
    const client = fresh([{ status: 404, body: notFound }, { status: 404, body: notFound }], { requestTimeoutMs: 200, attempts: 2 });
    assert.equal(await client.getRegisteredModel('m'), null);
    assert.equal(await client.getModelVersion('m', '3'), null);
    answers = [{ status: 200, body: '{}', delayMs: 1_000 }, { status: 200, body: '{}', delayMs: 1_000 }];
    await assert.rejects(client.getRun('slow'), (err: unknown) => {
      assert.ok(err instanceof MlflowError);
      assert.equal(err.status, null);
      assert.equal(err.retriable, true);
      assert.match(err.message, /no answer within 200 ms/);
      return true;
    });
  });

  it('reports a server that is not there as unreachable, naming it', async () => {
    const client = new MlflowClient({ trackingUri: 'http://127.0.0.1:1', attempts: 1, env: {} });
    await assert.rejects(client.getRun('r'), (err: unknown) => err instanceof MlflowError && err.status === null && /MLflow at http:\/\/127\.0\.0\.1:1 unreachable \(GET \/api\/2\.0\/mlflow\/runs\/get\)/.test(err.message));
  });

  it('sends the token, or credentials from the URI as Basic; DELETE alias carries a JSON body', async () => {
    await fresh([{ status: 200, body: '{}' }], { env: { MLFLOW_TRACKING_TOKEN: 'abc' } }).deleteAlias('m', 'champion');
    assert.equal(seen[0].headers.authorization, 'Bearer abc');
    assert.deepEqual([seen[0].method, seen[0].url, JSON.parse(seen[0].body)], ['DELETE', '/api/2.0/mlflow/registered-models/alias', { name: 'm', alias: 'champion' }]);

    answers = [{ status: 200, body: '{}' }];
    seen.length = 0;
    await new MlflowClient({ trackingUri: base.replace('http://', 'http://ann:p%40ss@'), env: {} }).setModelVersionTag('m', '1', 'k', 'v');
    assert.equal(seen[0].headers.authorization, `Basic ${Buffer.from('ann:p@ss').toString('base64')}`);
  });

  it('refuses a tracking URI that is not an HTTP server', () => {
    assert.throws(() => new MlflowClient({ trackingUri: 'file:///tmp/mlruns' }), /must be http\(s\):\/\/host:port/);
    assert.throws(() => new MlflowClient({ trackingUri: 'not a url' }), /is not a URL/);
  });
});
