// What an upload really is, from its bytes (magic numbers), not from the Content-Type a client
// declares: a PDF, a page image (PNG, JPEG, TIFF) or UTF-8 text. The declared type must agree with
// the bytes unless it is generic (application/octet-stream or absent). Every refusal is an HttpError
// whose message says what was found: 400 for an empty body, 415 for an unsupported or mismatching type.
//
// The pages step decides what it can read with sniffDocument() (streams/documents/pages/sniff.ts);
// until that module lands this is a minimal local check of the same kinds (switch to it then, so
// the API refuses exactly what the processor would).
import { HttpError } from '../../streams/runtime/http/errors.ts';

export type DocumentKind = 'pdf' | 'png' | 'jpeg' | 'tiff' | 'text';

export const MIME_OF: Record<DocumentKind, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpeg: 'image/jpeg',
  tiff: 'image/tiff',
  text: 'text/plain',
};

/** Declared types that say nothing about the content: the bytes decide. */
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/x-www-form-urlencoded']);
const DECLARED_KIND: Record<string, DocumentKind> = {
  'application/pdf': 'pdf',
  'application/x-pdf': 'pdf',
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/tiff': 'tiff',
  'text/plain': 'text',
};

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** PDF readers accept the header anywhere in the first KiB (some generators prepend junk). */
const PDF_HEADER_WINDOW = 1024;

/** The kind of document the bytes are, or null when they are none of the supported kinds. */
export function sniffKind(bytes: Buffer): DocumentKind | null {
  if (bytes.subarray(0, PDF_HEADER_WINDOW).includes('%PDF-')) return 'pdf';
  if (bytes.subarray(0, 8).equals(PNG_MAGIC)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const tiff = bytes.subarray(0, 4).toString('latin1');
  if (tiff === 'II*\u0000' || tiff === 'MM\u0000*') return 'tiff';
  if (isText(bytes)) return 'text';
  return null;
}

/** Valid UTF-8 without NUL and with few control characters (binary files fail one of these quickly). */
function isText(bytes: Buffer): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  if (text.includes('\u0000')) return false;
  // eslint-disable-next-line no-control-regex
  const controls = text.match(/[\u0001-\u0008\u000e-\u001f\u007f]/g)?.length ?? 0;
  return controls <= text.length / 100;
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** First bytes in hex, for a refusal that shows what was sent. */
function head(bytes: Buffer): string {
  return [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** The checked kind and MIME type of an upload; HttpError 400/415 with the reason otherwise. */
export function checkDocument(bytes: Buffer, declaredContentType: string | undefined): { kind: DocumentKind; mime: string } {
  if (bytes.length === 0) throw new HttpError(400, 'empty: the document has 0 bytes');
  const declared = mediaType(declaredContentType);
  const declaredKind = DECLARED_KIND[declared];
  if (!GENERIC_TYPES.has(declared) && declaredKind === undefined) {
    throw new HttpError(415, `unsupported type: declared ${JSON.stringify(declared)}; send a PDF, a PNG/JPEG/TIFF page image or UTF-8 text (${Object.keys(DECLARED_KIND).join(', ')} or application/octet-stream)`);
  }
  const kind = sniffKind(bytes);
  if (kind === null) throw new HttpError(415, `unsupported type: the content is not a PDF, PNG, JPEG, TIFF or UTF-8 text (first bytes ${head(bytes)})`);
  if (declaredKind !== undefined && declaredKind !== kind) {
    throw new HttpError(415, `declared type mismatch: declared ${declared} but the content is ${MIME_OF[kind]} (first bytes ${head(bytes)})`);
  }
  return { kind, mime: MIME_OF[kind] };
}
