// A processor declares named state stores; the runtime opens each on a backend: Redis in a running
// processor, process memory in the test driver (like Kafka Streams' persistent vs in-memory stores).
// Each store kind implements both with the same semantics, and one contract test runs against both.
import type { RedisState } from './redis-state.ts';

export type StateBackend = { kind: 'redis'; redis: RedisState } | { kind: 'memory' };

export interface StateSpec<S> {
  kind: string;
  /** One line for the topology description, e.g. "latest entry per key, TTL 7 d". */
  detail: string;
  /** `namespace` is `<processor>:<store name>`; stores prefix every key with it. */
  open(backend: StateBackend, namespace: string): S;
}

export type StoresOf<D> = { [K in keyof D]: D[K] extends StateSpec<infer S> ? S : never };

export function openStores<D extends Record<string, StateSpec<unknown>>>(specs: D | undefined, backend: StateBackend, processor: string): StoresOf<D> {
  const stores: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs ?? {})) stores[name] = spec.open(backend, `${processor}:${name}`);
  return stores as StoresOf<D>;
}
