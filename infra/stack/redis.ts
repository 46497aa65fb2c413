// Embedded Redis: Debian's redis-server, daemonized on 127.0.0.1 with persistence off (it holds
// rebuildable online features); optionally with a password and/or TLS (secure-services.ts). Health
// is a raw RESP PING (after AUTH when REDIS_URL has a password), no client library.
import { isIP, connect as tcpConnect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { LOOPBACK, redactUrl } from './config.ts';
import type { StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import {
  assertPortsFree, ensureDir, findOnPath, ownedPid, readPidFile, runTool, seconds, stopOwned, tailFile, waitUntil,
} from './process.ts';
import type { Log, ProcessIdentity } from './process.ts';
import { errorMessage } from './service.ts';
import type { Health, Service } from './service.ts';
import { redisPasswordConfig, redisPortArgs, writePrivateFile } from './secure-services.ts';
import { redisTlsOptions } from '../../streams/runtime/connection-security.ts';

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 10_000;
const PROBE_TIMEOUT_MS = 3_000;

export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
}

export function parseRedisUrl(raw: string): RedisTarget {
  const url = new URL(raw);
  const decode = (s: string) => (s === '' ? undefined : decodeURIComponent(s));
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 6379 : Number(url.port),
    tls: url.protocol === 'rediss:',
    username: decode(url.username),
    password: decode(url.password),
  };
}

/** A command as a RESP array of bulk strings. */
export function encodeCommand(args: string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''), 'utf8');
}

/**
 * PING (after AUTH when the URL has a password); resolves with the PING reply line, e.g. '+PONG'.
 * `tls`: CA and client certificate for a rediss:// target (redisTlsOptions()); default the system CAs.
 */
export function pingRedis(target: RedisTarget, timeoutMs = PROBE_TIMEOUT_MS, tls: ConnectionOptions = {}): Promise<string> {
  const commands: string[][] = [];
  if (target.password !== undefined) commands.push(target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password]);
  commands.push(['PING']);
  return new Promise((resolve, reject) => {
    const socket: Socket = target.tls
      ? tlsConnect({ host: target.host, port: target.port, ...(isIP(target.host) ? {} : { servername: target.host }), ...tls })
      : tcpConnect({ host: target.host, port: target.port });
    let text = '';
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no PONG from ${target.host}:${target.port} within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.write(Buffer.concat(commands.map(encodeCommand))));
    socket.once('end', () => fail(new Error(`${target.host}:${target.port} closed the connection`)));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const lines = text.split('\r\n').slice(0, -1);
      const errorAt = lines.findIndex((l) => l.startsWith('-'));
      if (errorAt !== -1) return fail(new Error(`redis replied ${lines[errorAt].slice(1)}${authHint(commands[errorAt][0], lines[errorAt])}`));
      if (lines.length >= commands.length) {
        socket.destroy();
        resolve(lines[commands.length - 1]);
      }
    });
  });
}

/** What to fix when AUTH was refused, or a password is missing. */
function authHint(command: string, reply: string): string {
  if (command === 'AUTH') return ' to AUTH: check the user and password in REDIS_URL (redis://[USER]:PASSWORD@host:port)';
  if (reply.startsWith('-NOAUTH')) return '; the server requires a password: put it in REDIS_URL (redis://:PASSWORD@host:port)';
  return '';
}

function paths(config: StackConfig) {
  const dir = join(config.dataDir, 'redis');
  return { dir, pidFile: join(dir, 'redis.pid'), logFile: join(dir, 'redis.log'), passwordConf: join(dir, 'redis-password.conf') };
}

function identity(config: StackConfig): ProcessIdentity {
  // --set-proc-title no keeps the full argv, so the pid file path identifies our instance.
  return { pidFile: paths(config).pidFile, cmdlineNeedles: ['redis-server', paths(config).pidFile] };
}

function redisServer(): string | null {
  return findOnPath('redis-server', `${process.env.PATH ?? ''}:/usr/bin:/usr/sbin:/usr/local/bin`);
}

async function ensureInstalled(_config: StackConfig, log: Log): Promise<void> {
  if (redisServer() !== null) return;
  if (process.getuid?.() !== 0) {
    throw new StackError('redis-server is not installed', { service: 'redis', hint: 'sudo apt-get install -y redis-server (or set REDIS_URL to a running Redis)' });
  }
  const started = Date.now();
  log('redis: installing redis-server with apt-get (once)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runTool('apt-get', ['update', '-qq'], { env });
  await runTool('apt-get', ['install', '-y', '-qq', 'redis-server'], { env });
  if (redisServer() === null) throw new StackError('apt-get installed redis-server but it is not on PATH', { service: 'redis' });
  log(`redis: redis-server installed (${seconds(started)})`);
}

async function start(config: StackConfig, log: Log): Promise<number> {
  if (config.redis.managed !== 'embedded') throw new StackError('redis is external (REDIS_URL is set); nothing to manage', { service: 'redis' });
  const { port, security } = config.redis;
  const p = paths(config);
  const bin = redisServer();
  if (bin === null) throw new StackError('redis-server is not installed', { service: 'redis' });
  ensureDir(p.dir);
  await assertPortsFree('redis', LOOPBACK, [['STREAMSCORE_REDIS_PORT', port]]);
  const started = Date.now();
  log(`redis: starting on ${LOOPBACK}:${port}${security?.tls ? ' (TLS)' : ''}${security?.password !== undefined ? ' with a password' : ''}...`);
  // A config file must come first on redis-server's command line; the arguments after it override it.
  const passwordConf = security?.password !== undefined ? [p.passwordConf] : [];
  if (security?.password !== undefined) writePrivateFile(p.passwordConf, redisPasswordConfig(security.password));
  // Daemonizes itself and writes the pid file; the parent exits at once.
  await runTool(bin, [
    ...passwordConf, ...redisPortArgs(port, security), '--bind', LOOPBACK, '--save', '', '--appendonly', 'no', '--set-proc-title', 'no',
    '--daemonize', 'yes', '--pidfile', p.pidFile, '--logfile', p.logFile, '--dir', p.dir,
  ], { cwd: p.dir });
  const target = parseRedisUrl(config.redisUrl);
  const tls = redisTlsOptions(config.redisUrl);
  const ready = await waitUntil(async () => ownedPid(identity(config)) !== null && (await pingRedis(target, PROBE_TIMEOUT_MS, tls).then(() => true, () => false)), READY_TIMEOUT_MS, 200);
  const pid = readPidFile(p.pidFile);
  if (!ready || pid === null) {
    await stopOwned(identity(config), 2_000);
    throw new StackError(`redis not ready within ${READY_TIMEOUT_MS / 1000} s; last lines of ${p.logFile}:\n${tailFile(p.logFile, 40)}`, { service: 'redis' });
  }
  log(`redis ready in ${seconds(started)} (pid ${pid})`);
  return pid;
}

async function stop(config: StackConfig): Promise<number | null> {
  return (await stopOwned(identity(config), STOP_GRACE_MS))?.pid ?? null;
}

async function health(config: StackConfig): Promise<Health> {
  if (config.redis.managed === 'embedded' && ownedPid(identity(config)) === null) return { healthy: false, detail: 'not running' };
  try {
    const reply = await pingRedis(parseRedisUrl(config.redisUrl), PROBE_TIMEOUT_MS, redisTlsOptions(config.redisUrl));
    return reply === '+PONG' ? { healthy: true, detail: 'PONG' } : { healthy: false, detail: `PING answered ${JSON.stringify(reply)}` };
  } catch (err) {
    return { healthy: false, detail: errorMessage(err) };
  }
}

export const redisService: Service = {
  name: 'redis',
  managed: (config) => config.redis.managed,
  endpoint: (config) => redactUrl(config.redisUrl),
  identity,
  ensureInstalled,
  start,
  stop,
  health,
};
