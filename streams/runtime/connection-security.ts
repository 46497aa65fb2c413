// Credentials and TLS for the connections a real deployment needs, read from documented env vars in
// one place: the registry (basic auth or a bearer token). Kafka (TLS, SASL) and Redis (AUTH, TLS)
// settings join here.

/** Headers every schema-registry request carries: Basic (SCHEMA_REGISTRY_USER/_PASSWORD) or Bearer (SCHEMA_REGISTRY_TOKEN). */
export function registryAuthHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const token = env.SCHEMA_REGISTRY_TOKEN;
  const user = env.SCHEMA_REGISTRY_USER;
  if (token && user) throw new Error('set either SCHEMA_REGISTRY_TOKEN or SCHEMA_REGISTRY_USER/SCHEMA_REGISTRY_PASSWORD, not both');
  if (token) return { authorization: `Bearer ${token}` };
  if (user) return { authorization: `Basic ${Buffer.from(`${user}:${env.SCHEMA_REGISTRY_PASSWORD ?? ''}`).toString('base64')}` };
  return {};
}
