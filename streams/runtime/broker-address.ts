// KAFKA_BROKERS as the runtime reads it. The dev stack (infra/stack/config.ts) re-exports these, so
// there is one parser; the runtime itself never imports the stack.

export interface HostPort {
  host: string;
  port: number;
}

/** `host:port[,host:port...]`; a `PLAINTEXT://`-style prefix and IPv6 `[::1]:9092` are accepted. */
export function parseBrokers(raw: string, problems: string[]): HostPort[] {
  const brokers: HostPort[] = [];
  for (const entry of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^(?:[A-Za-z_]+:\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/\s[\]]+):(\d{1,5})$/.exec(entry);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      problems.push(`KAFKA_BROKERS entry ${JSON.stringify(entry)} is not host:port`);
      continue;
    }
    brokers.push({ host: m[1].replace(/^\[|\]$/g, ''), port });
  }
  if (brokers.length === 0 && !problems.some((p) => p.startsWith('KAFKA_BROKERS'))) {
    problems.push(`KAFKA_BROKERS=${JSON.stringify(raw)} names no broker`);
  }
  return brokers;
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
