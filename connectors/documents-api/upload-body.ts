// Reads an uploaded document from a request: the raw body (its Content-Type declares the type, an
// optional Content-Disposition or ?filename= names it) or multipart/form-data with one file part
// (busboy; the part's own type and file name). The size limit is enforced while the body streams
// in: a declared Content-Length over it is refused before reading, and a body that grows past it
// is refused at that byte (413); the HTTP layer then drains or cuts the rest.
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { HttpError } from '../../streams/runtime/http/errors.ts';
import { mediaType } from './content-check.ts';

export interface UploadedFile {
  bytes: Buffer;
  /**
   * As sent, cleaned for display (no path, no control characters); 'unnamed' when none was given
   * (not a common word: logs cut personal values such as file names out of messages).
   */
  filename: string;
  /** The declared Content-Type (of the body, or of the multipart file part). */
  declaredType: string;
}

const MAX_FILENAME = 255;

/** A display name: the last path segment, control characters removed, at most 255 characters. */
export function cleanFilename(raw: string | undefined | null): string {
  // eslint-disable-next-line no-control-regex
  const name = (raw ?? '').split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_FILENAME);
  return name === '' || name === '.' || name === '..' ? 'unnamed' : name;
}

/** filename*=UTF-8''... (RFC 6266/5987) or filename="..." of a Content-Disposition header. */
export function dispositionFilename(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      /* fall through to the plain parameter */
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
  return plain ? (plain[1]?.replace(/\\(.)/g, '$1') ?? plain[2]) : undefined;
}

const tooLarge = (maxBytes: number) => new HttpError(413, `too large: the document is over the ${maxBytes} byte limit`);

/** A 413 for a Content-Length over the limit, before anything is read or reserved. */
export function refuseDeclaredOverLimit(req: IncomingMessage, maxBytes: number): void {
  const declaredLength = Number(req.headers['content-length'] ?? NaN);
  // Multipart framing adds a few hundred bytes around the file; the file itself is held to maxBytes while read.
  const framing = mediaType(req.headers['content-type']) === 'multipart/form-data' ? 64 * 1024 : 0;
  if (declaredLength > maxBytes + framing) throw tooLarge(maxBytes);
}

export async function readUpload(req: IncomingMessage, url: URL, maxBytes: number): Promise<UploadedFile> {
  refuseDeclaredOverLimit(req, maxBytes);
  if (mediaType(req.headers['content-type']) === 'multipart/form-data') return readMultipart(req, maxBytes);
  const bytes = await readRaw(req, maxBytes);
  return {
    bytes,
    filename: cleanFilename(url.searchParams.get('filename') ?? dispositionFilename(req.headers['content-disposition'])),
    declaredType: req.headers['content-type'] ?? '',
  };
}

/**
 * The body up to `maxBytes`. Not `for await`: leaving that loop early destroys the request and its
 * socket, and the client would get a reset instead of its 413. Here reading just stops; the HTTP
 * layer drains or cuts the rest after answering.
 */
function readRaw(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new HttpError(400, `upload interrupted: ${err.message}`));
    };
    // Destroyed before its end (client gone, request timeout): no 'end' will come.
    const onClose = () => onError(new Error('the connection closed before the body ended'));
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

function readMultipart(req: IncomingMessage, maxBytes: number): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 20, fieldSize: 4096, parts: 21, headerPairs: 50 } });
    } catch (err) {
      reject(new HttpError(400, `bad multipart request: ${(err as Error).message}`));
      return;
    }
    let file: UploadedFile | null = null;
    let pending: Promise<void> | null = null;
    let failed = false;
    const fail = (err: HttpError) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      reject(err);
    };
    parser.on('file', (_field, stream, info) => {
      const chunks: Buffer[] = [];
      let size = 0;
      pending = new Promise<void>((done) => {
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          chunks.push(chunk);
        });
        stream.on('limit', () => fail(tooLarge(maxBytes)));
        // A body cut off inside the file part errors the part's stream (and then the parser).
        stream.on('error', (err: Error) => {
          fail(new HttpError(400, `bad multipart body: ${err.message}`));
          done();
        });
        stream.on('close', () => {
          file = { bytes: Buffer.concat(chunks, size), filename: cleanFilename(info.filename), declaredType: info.mimeType ?? '' };
          done();
        });
      });
    });
    parser.on('filesLimit', () => fail(new HttpError(400, 'multipart body has more than one file; send one document per request')));
    parser.on('error', (err: Error) => fail(new HttpError(400, `bad multipart body: ${err.message}`)));
    parser.on('close', () => {
      void (pending ?? Promise.resolve()).then(() => {
        if (failed) return;
        if (!file) fail(new HttpError(400, 'multipart body has no file part; send the document as a file field (e.g. curl -F file=@contract.pdf)'));
        else resolve(file);
      });
    });
    req.on('error', (err) => fail(new HttpError(400, `upload interrupted: ${err.message}`)));
    req.once('close', () => {
      if (!req.readableEnded) fail(new HttpError(400, 'upload interrupted: the connection closed before the body ended'));
    });
    req.pipe(parser);
  });
}
