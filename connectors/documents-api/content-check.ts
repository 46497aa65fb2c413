// What an upload really is, from its bytes (magic numbers), not from the Content-Type a client
// declares. The kinds and the reasons are the pages step's own (sniffDocument in
// streams/documents/pages/sniff.ts), so the API refuses at the door exactly what the processor
// would refuse later. The declared type must agree with the bytes unless it is generic
// (application/octet-stream or absent). Every refusal is an HttpError whose message says what was
// found: 400 for an empty document, 415 for an unsupported or mismatching type.
import { DocumentRejectedError } from '../../streams/documents/pages/errors.ts';
import { sniffDocument, type DocumentKind } from '../../streams/documents/pages/sniff.ts';
import { HttpError } from '../../streams/runtime/http/errors.ts';

/** Declared types that say nothing about the content: the bytes decide. */
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream']);
const DECLARED_KIND: Record<string, DocumentKind> = {
  'application/pdf': 'pdf',
  'application/x-pdf': 'pdf',
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/tiff': 'tiff',
  'text/plain': 'text',
};

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

const hexHead = (bytes: Buffer) => [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');

/** The checked kind and MIME type of an upload; HttpError 400/415 with the reason otherwise. The size is checked while reading (upload-body.ts). */
export function checkDocument(bytes: Buffer, declaredContentType: string | undefined): { kind: DocumentKind; mime: string } {
  const declared = mediaType(declaredContentType);
  const declaredKind = DECLARED_KIND[declared];
  let sniffed;
  try {
    sniffed = sniffDocument(bytes, { maxBytes: Number.MAX_SAFE_INTEGER });
  } catch (err) {
    if (!(err instanceof DocumentRejectedError)) throw err;
    throw new HttpError(err.rejection === 'empty' ? 400 : err.rejection === 'too large' ? 413 : 415, err.message);
  }
  if (!GENERIC_TYPES.has(declared) && declaredKind === undefined) {
    throw new HttpError(415, `unsupported type: declared ${JSON.stringify(declared)}; send a PDF, a PNG/JPEG/TIFF page image or UTF-8 text (${Object.keys(DECLARED_KIND).join(', ')} or application/octet-stream)`);
  }
  if (declaredKind !== undefined && declaredKind !== sniffed.kind) {
    throw new HttpError(415, `declared type mismatch: declared ${declared} but the content is ${mediaType(sniffed.mime)} (first bytes ${hexHead(bytes)})`);
  }
  return sniffed;
}
