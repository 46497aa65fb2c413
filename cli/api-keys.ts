// `streamscore api-keys create | list | revoke`: keys for the HTTP APIs (docs/security.md). The
// secret is printed once, at creation; the file keeps only its SHA-256.
import { withFileLock, stderrLog } from '../infra/stack/process.ts';
import { createApiKey, defaultKeyFilePath, parseDuration, parseRateLimit, readKeyFile, revokeApiKey, KNOWN_SCOPES } from '../streams/runtime/http/api-keys.ts';
import { ApiKeyFileError } from '../streams/runtime/http/errors.ts';

const USAGE = `usage: streamscore api-keys <command> [--file FILE]
  create --name NAME --scopes ${KNOWN_SCOPES.join(',')} [--rate 50/s] [--burst N] [--expires 30d]
                      prints the new key ONCE; the file stores only its SHA-256
  list [--json]       ids, names, scopes, limits, expiry, revocation (never secrets)
  revoke ID           the key is refused from the API's next check of the file (about 1 s)
  --file FILE         keys file (STREAMSCORE_API_KEYS_FILE; default <data dir>/api-keys.json)
`;

export async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  const flag = (name: string) => {
    const at = rest.indexOf(`--${name}`);
    if (at >= 0 && (rest[at + 1] === undefined || rest[at + 1].startsWith('--'))) throw new ApiKeyFileError(`--${name} needs a value`);
    return at >= 0 ? rest[at + 1] : undefined;
  };
  try {
    const path = flag('file') ?? defaultKeyFilePath();
    // Read-modify-write of one file: two CLIs at once must not lose a key.
    const locked = <T>(fn: () => T) => withFileLock({ lock: `${path}.lock`, what: '`streamscore api-keys` command', waitMs: 10_000, log: stderrLog }, async () => fn());
    if (command === 'create') {
      const name = flag('name');
      const scopes = flag('scopes');
      if (!name || !scopes) throw new ApiKeyFileError('create needs --name NAME and --scopes score[,metrics,health]');
      const rate = flag('rate');
      const burst = flag('burst');
      const expires = flag('expires');
      const { token, record } = await locked(() =>
        createApiKey(path, {
          name,
          scopes: scopes.split(',').map((s) => s.trim()).filter(Boolean),
          rateLimit: rate ? parseRateLimit(rate, burst === undefined ? undefined : Number(burst)) : undefined,
          expiresInMs: expires ? parseDuration(expires) : undefined,
        }),
      );
      process.stderr.write(`created key ${record.id} (${record.name}; scopes ${record.scopes.join(',')}${record.not_after ? `; expires ${record.not_after}` : ''}) in ${path}\n`);
      process.stderr.write('the key is shown once; store it now (it is not kept anywhere):\n');
      process.stdout.write(`${token}\n`);
      return 0;
    }
    if (command === 'list') {
      const keys = readKeyFile(path).keys.map(({ sha256: _hash, ...k }) => k);
      if (rest.includes('--json')) process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
      else {
        process.stdout.write(`${path}\n`);
        for (const k of keys) {
          const state = k.revoked_at ? `revoked ${k.revoked_at}` : k.not_after && Date.parse(k.not_after) < Date.now() ? `expired ${k.not_after}` : 'active';
          const rate = k.rate_limit ? `${k.rate_limit.per_second}/s burst ${k.rate_limit.burst}` : 'default rate';
          process.stdout.write(`  ${k.id}  ${k.name.padEnd(20)}  ${k.scopes.join(',').padEnd(20)}  ${rate.padEnd(20)}  ${state}${k.not_after && !k.revoked_at ? ` (until ${k.not_after})` : ''}\n`);
        }
      }
      return 0;
    }
    if (command === 'revoke') {
      const id = rest[0];
      if (!id || id.startsWith('--')) throw new ApiKeyFileError('revoke needs the key id (see `api-keys list`)');
      const key = await locked(() => revokeApiKey(path, id));
      if (!key) throw new ApiKeyFileError(`no key ${JSON.stringify(id)} in ${path}`, 'see `npx streamscore api-keys list`');
      process.stderr.write(`revoked key ${key.id} (${key.name}) at ${key.revoked_at}\n`);
      return 0;
    }
    process.stderr.write(USAGE);
    return command === undefined || command === '--help' ? 0 : 2;
  } catch (err) {
    if (!(err instanceof ApiKeyFileError)) throw err;
    process.stderr.write(`streamscore api-keys: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
    return 1;
  }
}
