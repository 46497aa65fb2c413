// The one Kafka request the runtime (checkKafkaSecurity) and the dev stack's health check need:
// ApiVersions v0 (api_key 18), which every broker answers before authentication and which Kafka 4.x
// still accepts. Framing: int32 size,
// request header v1 (int16 api_key, int16 api_version, int32 correlation_id, string client_id),
// empty body. Response v0 (header v0): int32 correlation_id, int16 error_code,
// [int32 count] x (int16 api_key, int16 min_version, int16 max_version).
import { connect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export const API_VERSIONS_KEY = 18;

export interface ApiVersion {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface ApiVersionsResponse {
  correlationId: number;
  errorCode: number;
  apis: ApiVersion[];
}

export function encodeApiVersionsRequest(correlationId: number, clientId: string): Buffer {
  const client = Buffer.from(clientId, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length);
  body.writeInt16BE(API_VERSIONS_KEY, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(correlationId, 4);
  body.writeInt16BE(client.length, 8);
  client.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** Parses a response payload (without the 4-byte size prefix). Throws on truncated input. */
export function parseApiVersionsResponse(payload: Buffer): ApiVersionsResponse {
  if (payload.length < 6) throw new Error(`ApiVersions response too short (${payload.length} bytes)`);
  const correlationId = payload.readInt32BE(0);
  const errorCode = payload.readInt16BE(4);
  const apis: ApiVersion[] = [];
  // An error response (e.g. UNSUPPORTED_VERSION) may still carry the array; read it when present.
  if (payload.length >= 10) {
    const count = payload.readInt32BE(6);
    if (count > 0) {
      if (payload.length < 10 + count * 6) throw new Error(`ApiVersions response truncated (${count} apis, ${payload.length} bytes)`);
      for (let i = 0, at = 10; i < count; i++, at += 6) {
        apis.push({ apiKey: payload.readInt16BE(at), minVersion: payload.readInt16BE(at + 2), maxVersion: payload.readInt16BE(at + 4) });
      }
    }
  }
  return { correlationId, errorCode, apis };
}

/** Returns the first complete frame's payload in `buffer`, or null when more bytes are needed. */
export function readFrame(buffer: Buffer): Buffer | null {
  if (buffer.length < 4) return null;
  const size = buffer.readInt32BE(0);
  if (size < 0 || size > 1 << 20) throw new Error(`implausible Kafka frame size ${size}`);
  return buffer.length >= 4 + size ? buffer.subarray(4, 4 + size) : null;
}

/** A TLS alert record (content type 21, version 3.x): a TLS listener's answer to plaintext bytes. */
export function isTlsAlert(chunk: Buffer): boolean {
  return chunk.length >= 2 && chunk[0] === 0x15 && chunk[1] === 0x03;
}

/**
 * Sends ApiVersions to host:port (over TLS when `tls` is given); resolves with the parsed response,
 * rejects on any failure.
 */
export function requestApiVersions(host: string, port: number, timeoutMs = 3000, tls?: ConnectionOptions): Promise<ApiVersionsResponse> {
  const correlationId = (Math.random() * 0x7fffffff) | 0;
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const socket = tls ? tlsConnect({ host, port, ...tls }) : connect({ host, port });
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no ApiVersions answer from ${host}:${port} within ${timeoutMs} ms`)));
    socket.once('error', fail);
    let connected = false;
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      socket.write(encodeApiVersionsRequest(correlationId, 'streamscore-infra'));
    });
    socket.once('end', () => fail(new Error(connected
      ? `${host}:${port} closed the connection before answering ApiVersions`
      : `${host}:${port} closed the connection before the TLS handshake finished`)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!tls && isTlsAlert(received)) return fail(new Error(`${host}:${port} answered with a TLS alert (a TLS listener)`));
      try {
        const frame = readFrame(received);
        if (frame === null) return;
        const response = parseApiVersionsResponse(frame);
        socket.destroy();
        if (response.correlationId !== correlationId) {
          reject(new Error(`ApiVersions correlation id mismatch (sent ${correlationId}, got ${response.correlationId})`));
        } else {
          resolve(response);
        }
      } catch (err) {
        fail(err as Error);
      }
    });
  });
}
