import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { describe, it } from 'node:test';
import { encodeApiVersionsRequest, parseApiVersionsResponse, readFrame, requestApiVersions } from './kafka-protocol.ts';

function response(correlationId: number, errorCode: number, apis: [number, number, number][]): Buffer {
  const body = Buffer.alloc(10 + apis.length * 6);
  body.writeInt32BE(correlationId, 0);
  body.writeInt16BE(errorCode, 4);
  body.writeInt32BE(apis.length, 6);
  apis.forEach(([key, min, max], i) => {
    body.writeInt16BE(key, 10 + i * 6);
    body.writeInt16BE(min, 12 + i * 6);
    body.writeInt16BE(max, 14 + i * 6);
  });
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** A fake broker answering each ApiVersions request with `answer(correlationId)`, in two TCP chunks. */
async function fakeBroker(answer: (correlationId: number) => Buffer): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('data', (req: Buffer) => {
      const out = answer(req.readInt32BE(8));
      socket.write(out.subarray(0, 7));
      setTimeout(() => socket.write(out.subarray(7)), 10);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('encodeApiVersionsRequest', () => {
  it('frames api_key 18 v0 with a correlation id and client id', () => {
    assert.deepEqual(
      encodeApiVersionsRequest(0x01020304, 'ab'),
      Buffer.from([0, 0, 0, 12, 0, 18, 0, 0, 1, 2, 3, 4, 0, 2, 0x61, 0x62]),
    );
  });
});

describe('parseApiVersionsResponse', () => {
  it('reads the correlation id, error code and api ranges', () => {
    const frame = readFrame(response(7, 0, [[0, 3, 12], [18, 0, 4]]));
    assert.ok(frame);
    assert.deepEqual(parseApiVersionsResponse(frame), {
      correlationId: 7,
      errorCode: 0,
      apis: [{ apiKey: 0, minVersion: 3, maxVersion: 12 }, { apiKey: 18, minVersion: 0, maxVersion: 4 }],
    });
  });

  it('rejects truncated payloads', () => {
    assert.throws(() => parseApiVersionsResponse(Buffer.alloc(3)), /too short/);
    const frame = readFrame(response(7, 0, [[0, 3, 12]]))!;
    assert.throws(() => parseApiVersionsResponse(frame.subarray(0, 12)), /truncated/);
  });
});

describe('readFrame', () => {
  it('waits for the whole frame', () => {
    const whole = response(1, 0, []);
    assert.equal(readFrame(whole.subarray(0, 3)), null);
    assert.equal(readFrame(whole.subarray(0, whole.length - 1)), null);
    assert.equal(readFrame(whole)?.length, whole.length - 4);
  });
});

describe('requestApiVersions', () => {
  it('round-trips with a broker over TCP', async () => {
    const server = await fakeBroker((id) => response(id, 0, [[18, 0, 4]]));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await requestApiVersions('127.0.0.1', port, 2000);
      assert.equal(r.errorCode, 0);
      assert.deepEqual(r.apis, [{ apiKey: 18, minVersion: 0, maxVersion: 4 }]);
    } finally {
      server.close();
    }
  });

  it('rejects an answer to another request', async () => {
    const server = await fakeBroker((id) => response(id + 1, 0, []));
    try {
      const { port } = server.address() as AddressInfo;
      await assert.rejects(requestApiVersions('127.0.0.1', port, 2000), /correlation id mismatch/);
    } finally {
      server.close();
    }
  });

  it('rejects when nothing listens', async () => {
    const server = await fakeBroker(() => Buffer.alloc(0));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    await assert.rejects(requestApiVersions('127.0.0.1', port, 2000), /ECONNREFUSED/);
  });
});
