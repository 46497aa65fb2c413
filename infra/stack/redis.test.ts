import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { encodeCommand, parseRedisUrl, pingRedis } from './redis.ts';

/** A fake Redis that answers every RESP command with `reply(args)`. */
async function fakeRedis(reply: (args: string[]) => string): Promise<{ port: number; close: () => void; seen: string[][] }> {
  const seen: string[][] = [];
  const server = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      // Good enough for tests: bulk strings are the lines that do not start with * or $.
      for (const command of chunk.toString().split('*').filter((s) => s !== '')) {
        const args = command.split('\r\n').filter((l, i) => i > 0 && l !== '' && !l.startsWith('$'));
        seen.push(args);
        socket.write(reply(args));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close(), seen };
}

describe('encodeCommand', () => {
  it('writes a RESP array of bulk strings', () => {
    assert.equal(encodeCommand(['PING']).toString(), '*1\r\n$4\r\nPING\r\n');
    assert.equal(encodeCommand(['AUTH', 'pä']).toString(), '*2\r\n$4\r\nAUTH\r\n$3\r\npä\r\n');
  });
});

describe('parseRedisUrl', () => {
  it('reads host, port, tls and credentials', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6390'), { host: '127.0.0.1', port: 6390, tls: false, username: undefined, password: undefined });
    assert.deepEqual(parseRedisUrl('rediss://u:p%40ss@cache/0'), { host: 'cache', port: 6379, tls: true, username: 'u', password: 'p@ss' });
    assert.deepEqual(parseRedisUrl('redis://:pw@[::1]:7000').host, '::1');
  });
});

describe('pingRedis', () => {
  it('resolves with +PONG', async () => {
    const redis = await fakeRedis(() => '+PONG\r\n');
    try {
      assert.equal(await pingRedis({ host: '127.0.0.1', port: redis.port, tls: false, username: undefined, password: undefined }), '+PONG');
      assert.deepEqual(redis.seen, [['PING']]);
    } finally {
      redis.close();
    }
  });

  it('authenticates first when the URL has a password', async () => {
    const redis = await fakeRedis((args) => (args[0] === 'AUTH' ? '+OK\r\n' : '+PONG\r\n'));
    try {
      const target = parseRedisUrl(`redis://app:secret@127.0.0.1:${redis.port}`);
      assert.equal(await pingRedis(target), '+PONG');
      assert.deepEqual(redis.seen, [['AUTH', 'app', 'secret'], ['PING']]);
    } finally {
      redis.close();
    }
  });

  it('rejects on an error reply', async () => {
    const redis = await fakeRedis(() => '-NOAUTH Authentication required.\r\n');
    try {
      await assert.rejects(pingRedis(parseRedisUrl(`redis://127.0.0.1:${redis.port}`)), /redis replied NOAUTH Authentication required/);
    } finally {
      redis.close();
    }
  });
});
