// Reading a JSON request body without letting its size or shape cost more than the route allows:
// bytes are counted as they stream in (never more than `maxBytes` buffered), and a one-pass scanner
// checks nesting depth and array lengths chunk by chunk, so `[[[[...` or a million-element array is
// refused before JSON.parse (or a schema validator) ever sees it. JSON.parse then only meets bodies
// whose object count is bounded by the limits.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';

export interface JsonLimits {
  maxBytes: number;
  /** Deepest nesting of objects and arrays; `{"a": [1]}` has depth 2. */
  maxDepth: number;
  /** Most elements in any one array. */
  maxArrayItems: number;
}

const OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d, OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c;
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Incremental structure check: feed it chunks; it throws a 400 at the first violation. It does not
 * check that the text is JSON (JSON.parse does); a UTF-8 continuation byte is never an ASCII
 * structural byte, so scanning bytes is safe.
 */
export class JsonShapeScanner {
  private readonly limits: JsonLimits;
  private inString = false;
  private escaped = false;
  /** Per open container: -1 for an object, else the array's element count so far. */
  private readonly stack: number[] = [];
  /** Inside an array, just after `[` or `,`: the next non-space byte starts an element. */
  private awaitingElement = false;

  constructor(limits: JsonLimits) {
    this.limits = limits;
  }

  write(chunk: Uint8Array): void {
    const { stack } = this;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (isSpace(b)) continue;
      if (this.awaitingElement && b !== CLOSE_ARRAY) {
        this.awaitingElement = false;
        const count = ++stack[stack.length - 1];
        if (count > this.limits.maxArrayItems) throw new HttpError(400, `an array in the body has more than ${this.limits.maxArrayItems} elements`);
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
        if (stack.length >= this.limits.maxDepth) throw new HttpError(400, `the body nests objects and arrays deeper than ${this.limits.maxDepth} levels`);
        stack.push(b === OPEN_ARRAY ? 0 : -1);
        this.awaitingElement = b === OPEN_ARRAY;
      } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        stack.pop();
        this.awaitingElement = false;
      } else if (b === COMMA && stack.length > 0 && stack[stack.length - 1] >= 0) {
        this.awaitingElement = true;
      }
    }
  }
}

/**
 * Reads the body within the limits and parses it. 413 as soon as the byte count passes `maxBytes`
 * (declared or streamed), 400 for a bad shape, invalid UTF-8 or JSON. On a refusal the caller
 * replies with `Connection: close` and the rest of the body is never read.
 */
export async function readJsonBody(req: IncomingMessage, limits: JsonLimits): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.maxBytes) throw new HttpError(413, `body of ${declared} bytes is over the ${limits.maxBytes}-byte limit`);
  const scanner = new JsonShapeScanner(limits);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    // destroyOnReturn: false: a refusal must leave the socket open for the 4xx reply.
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limits.maxBytes) throw new HttpError(413, `body is over the ${limits.maxBytes}-byte limit`);
      scanner.write(chunk);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    // The client went away or timed out mid-body: its fault, not the server's.
    throw new HttpError(400, `the request body was cut off (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (size === 0) throw new HttpError(400, 'the body is empty; send a JSON document');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
  } catch {
    throw new HttpError(400, 'the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the body is not JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}
