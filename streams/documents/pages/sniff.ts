// What a document is, from its bytes (never from a declared Content-Type or file name): a PDF, a
// page image (PNG, JPEG, TIFF) or UTF-8 plain text. Anything else is refused with what it looks like.
import { DocumentRejectedError } from './errors.ts';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './limits.ts';

export type DocumentKind = 'pdf' | 'png' | 'jpeg' | 'tiff' | 'text';
export interface SniffedDocument {
  kind: DocumentKind;
  mime: string;
}

/** Acrobat accepts `%PDF-` anywhere in the first 1024 bytes (mail gateways and scanners prepend junk). */
const PDF_HEADER_WINDOW = 1024;

const startsWith = (bytes: Uint8Array, signature: number[], at = 0) => signature.every((b, i) => bytes[at + i] === b);

function findPdfHeader(bytes: Uint8Array): number {
  const end = Math.min(bytes.length, PDF_HEADER_WINDOW) - 5;
  for (let i = 0; i <= end; i++) {
    if (bytes[i] === 0x25 && bytes[i + 1] === 0x50 && bytes[i + 2] === 0x44 && bytes[i + 3] === 0x46 && bytes[i + 4] === 0x2d) return i;
  }
  return -1;
}

/** Types people upload by mistake, named so the rejection says what was sent. */
const KNOWN_UNSUPPORTED: { name: string; signature: number[]; at?: number }[] = [
  { name: 'a ZIP archive (DOCX, XLSX, ODT, ...)', signature: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'an OLE2 file (DOC, XLS, MSG)', signature: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] },
  { name: 'a GIF image', signature: [0x47, 0x49, 0x46, 0x38] },
  { name: 'a BMP image', signature: [0x42, 0x4d] },
  { name: 'a WebP image', signature: [0x57, 0x45, 0x42, 0x50], at: 8 },
  { name: 'a gzip file', signature: [0x1f, 0x8b] },
  { name: 'UTF-16 text (byte order mark FF FE)', signature: [0xff, 0xfe] },
  { name: 'UTF-16 text (byte order mark FE FF)', signature: [0xfe, 0xff] },
];

const hexHead = (bytes: Uint8Array) => Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');

/**
 * The kind of `bytes`, or a DocumentRejectedError: empty, larger than `limits.maxBytes`, a type
 * this pipeline does not read, or text that is not valid UTF-8 (or holds control characters).
 */
export function sniffDocument(bytes: Uint8Array, limits: Pick<DocumentLimits, 'maxBytes'> = DEFAULT_DOCUMENT_LIMITS): SniffedDocument {
  if (bytes.length === 0) throw new DocumentRejectedError('empty', 'the document has 0 bytes');
  if (bytes.length > limits.maxBytes) throw new DocumentRejectedError('too large', `the document has ${bytes.length} bytes, the limit is ${limits.maxBytes}`);
  if (findPdfHeader(bytes) >= 0) return { kind: 'pdf', mime: 'application/pdf' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'png', mime: 'image/png' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'jpeg', mime: 'image/jpeg' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return { kind: 'tiff', mime: 'image/tiff' };
  const known = KNOWN_UNSUPPORTED.find((k) => startsWith(bytes, k.signature, k.at));
  if (known) throw new DocumentRejectedError('unsupported type', `${known.name}; send a PDF, a PNG/JPEG/TIFF page image or UTF-8 text`);
  decodeTextDocument(bytes);
  return { kind: 'text', mime: 'text/plain; charset=utf-8' };
}

/** Control characters other than tab, line feed, form feed and carriage return: a sign of binary data. */
const BINARY_CONTROL = /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/;

/** The text of a plain-text document (a UTF-8 byte order mark dropped), or a DocumentRejectedError. */
export function decodeTextDocument(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new DocumentRejectedError('unsupported type', `neither a PDF, a PNG/JPEG/TIFF image nor valid UTF-8 text (first bytes ${hexHead(bytes)})`);
  }
  const control = BINARY_CONTROL.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(4, '0');
    throw new DocumentRejectedError('unsupported type', `binary data: control character U+${code} at offset ${control.index} (first bytes ${hexHead(bytes)})`);
  }
  if (text.trim() === '') throw new DocumentRejectedError('empty', 'the text document holds only whitespace');
  return text;
}
