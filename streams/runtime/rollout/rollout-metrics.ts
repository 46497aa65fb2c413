// Prometheus series of a rollout (docs/models.md "Shadow, canary and rollback"), registered on the
// processor's own registry beside the runtime's metrics.
import { Counter, Histogram, type Registry } from 'prom-client';

export interface RolloutMetrics {
  agreement: Counter<'processor' | 'model' | 'role' | 'agree'>;
  scoreDelta: Histogram<'processor' | 'model' | 'topic'>;
  latency: Histogram<'model' | 'version' | 'role'>;
  shadowErrors: Counter<'processor' | 'model' | 'reason'>;
  shadowRejects: Counter<'processor' | 'model'>;
  records: Counter<'processor' | 'model' | 'role'>;
  rollbacks: Counter<'processor' | 'model' | 'rule'>;
}

export function createRolloutMetrics(registry: Registry): RolloutMetrics {
  const registers = [registry];
  return {
    agreement: new Counter({ name: 'streamscore_model_agreement_total', help: 'Shadow outputs compared with the champion\'s for the same input: agree = same alert state / verdict (the processor\'s compare).', labelNames: ['processor', 'model', 'role', 'agree'], registers }),
    scoreDelta: new Histogram({ name: 'streamscore_model_score_delta', help: '|challenger score - champion score| of compared shadow outputs.', labelNames: ['processor', 'model', 'topic'], buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1], registers }),
    // Per record: a chunk's handle time divided by its records, so arms handling different shares compare.
    latency: new Histogram({ name: 'streamscore_model_latency_seconds', help: 'Handle time per record of the champion and the challenger while a rollout runs (chunk time / records).', labelNames: ['model', 'version', 'role'], buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5], registers }),
    shadowErrors: new Counter({ name: 'streamscore_shadow_errors_total', help: 'Chunks whose shadow run failed or timed out: their shadow outputs were dropped; the live chunk went on.', labelNames: ['processor', 'model', 'reason'], registers }),
    shadowRejects: new Counter({ name: 'streamscore_shadow_rejects_total', help: 'Records the shadow challenger rejected (counted, never dead-lettered).', labelNames: ['processor', 'model'], registers }),
    records: new Counter({ name: 'streamscore_rollout_records_total', help: 'Input records handled per role while a rollout runs.', labelNames: ['processor', 'model', 'role'], registers }),
    rollbacks: new Counter({ name: 'streamscore_rollbacks_total', help: 'Automatic rollbacks of a challenger by the breached rule.', labelNames: ['processor', 'model', 'rule'], registers }),
  };
}
