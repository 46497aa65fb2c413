// /metrics (Prometheus text), /healthz (alive) and /readyz (able to do its work) as routes of the
// HTTP layer, each group open or behind a key with the `metrics` / `health` scope.
import type { Registry } from 'prom-client';
import { ApiConfigError } from './errors.ts';
import type { Access, Route } from './server.ts';

export type Protection = 'open' | 'key';

export interface ObservabilityAccess {
  metrics: Protection;
  health: Protection;
}

const access = (p: Protection, scope: 'metrics' | 'health'): Access => (p === 'open' ? 'open' : { scope });

export function observabilityRoutes(o: { registry: Registry; isReady: () => boolean; access: ObservabilityAccess; health?: () => Record<string, unknown> }): Route[] {
  const health = access(o.access.health, 'health');
  return [
    {
      name: 'metrics',
      method: 'GET',
      path: '/metrics',
      access: access(o.access.metrics, 'metrics'),
      handle: async () => ({ text: await o.registry.metrics(), contentType: o.registry.contentType }),
    },
    { name: 'healthz', method: 'GET', path: '/healthz', access: health, handle: () => ({ json: { status: 'ok', ...o.health?.() } }) },
    {
      name: 'readyz',
      method: 'GET',
      path: '/readyz',
      access: health,
      handle: () => {
        const ready = o.isReady();
        return { status: ready ? 200 : 503, json: { status: ready ? 'ready' : 'not ready' } };
      },
    },
  ];
}

/** Reads `open` or `key` from an environment variable (unset: the default); anything else is an error. */
export function protectionFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: Protection): Protection {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'open' || raw === 'key') return raw;
  throw new ApiConfigError(`${name}=${JSON.stringify(raw)} must be "open" or "key"`);
}
