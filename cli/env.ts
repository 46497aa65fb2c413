// Commands that talk to the services use KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL when set
// (a user's own cluster) and the embedded stack's endpoints otherwise.
import { endpointsEnv } from '../infra/stack/stack.ts';

export function serviceEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...endpointsEnv(), ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) };
}
