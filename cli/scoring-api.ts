// `streamscore scoring-api [--port 8095]`: the FactoryGuard real-time scoring API.
import { loadFailureModel } from '../streams/maintenance/model.ts';
import { startScoringApi } from '../streams/maintenance/scoring-api.ts';

export async function run(args: string[]): Promise<number> {
  const at = args.indexOf('--port');
  const port = at >= 0 ? Number(args[at + 1]) : Number(process.env.SCORING_API_PORT ?? 8095);
  const model = await loadFailureModel();
  const api = await startScoringApi(model, { port, host: process.env.SCORING_API_HOST ?? '127.0.0.1' });
  process.stderr.write(`scoring API (${model.name} ${model.version}) on http://127.0.0.1:${api.port}: POST /v1/score, GET /metrics, GET /healthz\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await api.close();
  return 0;
}
