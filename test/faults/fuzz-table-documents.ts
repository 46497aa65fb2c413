// The fuzz table of docs.uploads.v1 -> documents (LexiScan): besides the wire-format kinds every
// topic gets, uploads whose document the pipeline must refuse with a reason a person can act on
// (streams/documents/pages/errors.ts: encrypted, corrupt, too many pages, ...), uploads whose
// envelope is inconsistent (hash, content vs. claim check, a blob that is missing or corrupt, an
// unusable document_id), and uploads that look odd but are readable and must pass. A passed upload
// is an ExtractedEntities carrying its document_id. Documents cost seconds, not microseconds: the
// target sends few of them (fuzz-targets.ts), and one scanned page at most (OCR is ~3 s a page).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import avro from 'avsc';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { DocumentUpload } from '../../schemas/generated/types.ts';
import { blobUri, type LocalBlobStore } from '../../streams/documents/blob-store.ts';
import { PdfWriter } from '../../streams/documents/pages/fixtures/pdf-writer.ts';
import { pngClaiming } from '../../streams/vision/test-frames.ts';
import type { FuzzTable } from './fuzz-table.ts';
import { BOMB_BYTES, commonKinds, patched, randomBytes, type Fate, type FuzzKind, type FuzzRecord, type KindContext } from './malformed.ts';

const fixture = (name: string) => readFileSync(new URL(`../../streams/documents/pages/fixtures/${name}`, import.meta.url));
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

const CONTRACT = fixture('contract.pdf');
/** Plain UTF-8 text is a document too (one page per form feed). */
const TEXT_CONTRACT = Buffer.from('SERVICES AGREEMENT\n\nThis Services Agreement is entered into on March 3, 2025 by Acme Holdings Inc. and Borealis Logistics LLC.\fThis Agreement is governed by the laws of the State of Delaware.\n', 'utf8');
/** Bytes whose address the target makes a corrupt blob at (seedBlobStore): what bit rot on the store's disk looks like. */
const ROTTEN_BLOB = Buffer.from('the document as it was uploaded');
/** Over the 50 MiB a document may have: only a claim check can carry it (the topic takes 16 MiB). Made on first use. */
let oversized: { bytes: Buffer; sha256: string } | undefined;
const oversizedBlob = () => (oversized ??= ((bytes) => ({ bytes, sha256: sha256(bytes) }))(Buffer.alloc(50 * 1024 * 1024 + 1, 'x')));

/** Puts what the claim-check kinds refer to into the processor's store: the contract, and a blob whose bytes no longer match its address. */
export async function seedBlobStore(store: LocalBlobStore): Promise<void> {
  await store.put(CONTRACT);
  await store.put(oversizedBlob().bytes);
  const rotten = store.pathOf(sha256(ROTTEN_BLOB));
  mkdirSync(dirname(rotten), { recursive: true });
  writeFileSync(rotten, Buffer.from('the document after a disk error'));
}

/** A one-page PDF whose page dictionary holds `page` (and whatever objects `extra` adds): shapes a PDF parser may recurse or loop on. */
function onePagePdf(build: (w: PdfWriter, pages: number) => { page: string; count?: number }): Buffer {
  const w = new PdfWriter();
  const pages = w.reserve();
  const { page, count = 1 } = build(w, pages);
  const kid = w.add(`<< /Type /Page /Parent ${pages} 0 R /MediaBox [0 0 612 792] ${page} >>`);
  w.set(pages, `<< /Type /Pages /Kids [${kid} 0 R] /Count ${count} >>`);
  return w.toBytes(w.add(`<< /Type /Catalog /Pages ${pages} 0 R >>`));
}

const HOSTILE_PDFS = {
  /** The page tree lists itself as its own kid. */
  circularPageTree: (() => {
    const w = new PdfWriter();
    const pages = w.reserve();
    w.set(pages, `<< /Type /Pages /Kids [${pages} 0 R] /Count 1 >>`);
    return w.toBytes(w.add(`<< /Type /Catalog /Pages ${pages} 0 R >>`));
  })(),
  /** A form XObject that draws itself: endless recursion for a renderer without a guard. */
  selfDrawingForm: onePagePdf((w) => {
    const form = w.reserve();
    w.set(form, `<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /X1 ${form} 0 R >> >> >>`, Buffer.from('/X1 Do', 'latin1'));
    return { page: `/Resources << /XObject << /X1 ${form} 0 R >> >> /Contents ${w.add('<< >>', Buffer.from('/X1 Do', 'latin1'))} 0 R` };
  }),
  /** 100,000 nested dictionaries in the page: a recursive parser runs out of stack. */
  deeplyNested: onePagePdf(() => ({ page: `/X ${'<< /A '.repeat(100_000)}1${' >>'.repeat(100_000)}` })),
  /** One real page of text under a page tree that claims a billion. */
  pageCountLie: onePagePdf((w) => {
    const font = w.add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
    const text = w.add('<< >>', Buffer.from('BT /F1 12 Tf 72 700 Td (This Agreement is made between Acme Holdings Inc. and Borealis Logistics LLC.) Tj ET', 'latin1'));
    return { page: `/Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${text} 0 R`, count: 1_000_000_000 };
  }),
};

const rejected = (reason: RegExp): Fate => ({ deadLetter: 'PROCESSING', reason });
const INVALID_ID: Fate = { deadLetter: 'VALIDATION', reason: /^document_id / };
const upload = (name: string, patch: (v: DocumentUpload, c: KindContext<DocumentUpload>) => Partial<DocumentUpload>, expect: Fate, extra: Partial<FuzzKind<DocumentUpload>> = {}) => patched<DocumentUpload>(name, patch, expect, extra);
const pick = <T>(c: KindContext<unknown>, items: T[]): T => items[Math.floor(c.random() * items.length)];
/** The upload of `bytes` inline, with their true size and hash. */
const inline = (bytes: Uint8Array): Partial<DocumentUpload> => ({ content: Buffer.from(bytes), blob_uri: null, size_bytes: bytes.length, sha256: sha256(bytes) });
/** A PDF fixture the pages step must refuse with `reason`. */
const badPdf = (name: string, file: string, reason: RegExp) => {
  const bytes = fixture(file);
  return upload(name, () => inline(bytes), rejected(reason));
};

function documentKinds(): FuzzKind<DocumentUpload>[] {
  const readable = fixture('encrypted-owner-only.pdf');
  const junkPrefixed = fixture('contract-junk-prefix.pdf');
  const scan = fixture('scan.pdf');
  return [
    // The document itself cannot be read: refused by the pages step with its reason.
    badPdf('encrypted-pdf', 'encrypted-user-password.pdf', /^encrypted: /),
    badPdf('truncated-pdf', 'contract-truncated.pdf', /^corrupt: /),
    badPdf('garbage-after-pdf-header', 'garbage.pdf', /^corrupt: /),
    badPdf('2000-page-pdf', 'many-pages-2000.pdf', /^too many pages: /),
    badPdf('oversized-page', 'oversized-page.pdf', /^page too large: /),
    badPdf('pdf-without-pages', 'no-pages.pdf', /^no pages: /),
    upload('circular-page-tree', () => inline(HOSTILE_PDFS.circularPageTree), rejected(/^corrupt: .*circular reference/)),
    upload('deeply-nested-pdf', () => inline(HOSTILE_PDFS.deeplyNested), rejected(/^corrupt: /)),
    // Drawn (OCR'd, as it has no text layer) to a blank page: nothing to extract.
    upload('self-drawing-form', () => inline(HOSTILE_PDFS.selfDrawingForm), rejected(/^empty: no text on any of its 1 page/)),
    upload('png-pixel-bomb', () => inline(pngClaiming(15_000, 15_000)), rejected(/^page too large: the image is 15000 x 15000 pixels/)),
    upload('corrupt-jpeg', (_, c) => inline(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(c.random, 16 + Math.floor(c.random() * 300))])), rejected(/^corrupt: the image could not be decoded/)),
    // Form feeds split a text document into pages: 100,000 of them is a PDF's 2,000-page case in text.
    upload('text-with-100000-pages', () => inline(Buffer.from('Agreement\f'.repeat(100_000))), rejected(/^too many pages: /), { max: 1 }),
    upload('zero-byte-document', () => inline(new Uint8Array(0)), rejected(/^empty: the document has 0 bytes$/)),
    upload('whitespace-text', () => inline(Buffer.from(' \n\t\r\n ')), rejected(/^empty: /)),
    upload('zip-declared-pdf', (_, c) => inline(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(c.random, 60)])), rejected(/^unsupported type: a ZIP archive/)),
    // A NUL first: not a signature anything has, and not text.
    upload('binary-not-a-document', (_, c) => inline(Buffer.concat([Buffer.from([0]), randomBytes(c.random, 1 + Math.floor(c.random() * 500))])), rejected(/^unsupported type: /)),
    // The envelope does not hold together: refused before any page is read.
    upload('wrong-sha256', (v, c) => ({ sha256: pick(c, [sha256(c.marker), v.sha256.slice(1), 'not-a-hash', '']) }), rejected(/^document bytes hash to [0-9a-f]{64}, the upload says /)),
    upload('content-and-blob-uri', () => ({ blob_uri: blobUri(sha256(CONTRACT)) }), rejected(/^upload has both content and blob_uri/)),
    upload('neither-content-nor-blob-uri', () => ({ content: null, blob_uri: null }), rejected(/^upload has neither content nor blob_uri/)),
    // An empty blob_uri is no claim check at all.
    upload('empty-blob-uri', () => ({ content: null, blob_uri: '' }), rejected(/^upload has neither content nor blob_uri/)),
    upload('blob-not-in-store', (_, c) => ({ content: null, blob_uri: blobUri(sha256(c.marker)), sha256: sha256(c.marker) }), rejected(/^claim check blob:sha256:[0-9a-f]{64}: blob .* is not in the blob store/)),
    upload('too-large-by-claim-check', () => ({ content: null, blob_uri: blobUri(oversizedBlob().sha256), size_bytes: oversizedBlob().bytes.length, sha256: oversizedBlob().sha256 }), rejected(/^too large: the document has 52428801 bytes, the limit is 52428800$/), { max: 1 }),
    upload('corrupt-blob-in-store', () => ({ content: null, blob_uri: blobUri(sha256(ROTTEN_BLOB)), sha256: sha256(ROTTEN_BLOB) }), rejected(/^claim check blob:sha256:[0-9a-f]{64}: blob integrity check failed/)),
    upload('foreign-blob-uri', (_, c) => ({ content: null, blob_uri: pick(c, ['s3://contracts/2025/acme.pdf', 'file:///etc/passwd', `blob:sha256:../../../../etc/passwd${'0'.repeat(40)}`, `blob:sha256:${sha256(CONTRACT).toUpperCase()}`]) }), rejected(/^claim check .*: (not a blob URI|blob URI .* does not end in 64 lowercase hex digits)/)),
    // document_id keys the results and every record downstream refers to it: the index holds
    // 1-256 characters without control characters (connectors/documents-api/status-follower.ts).
    upload('empty-document-id', () => ({ document_id: '' }), INVALID_ID),
    upload('10kb-document-id', (v) => ({ document_id: `${v.document_id}-${'d'.repeat(10_240)}` }), INVALID_ID),
    upload('control-character-in-document-id', (v, c) => ({ document_id: `${v.document_id}${pick(c, ['\n', '\u0000', '\u001b[2J'])}` }), INVALID_ID),
    // Passed by rule: odd but readable.
    upload('by-claim-check', () => ({ content: null, blob_uri: blobUri(sha256(CONTRACT)) }), { passes: 'a valid upload by claim check (the contract is in the store)' }),
    upload('plain-text-contract', () => ({ ...inline(TEXT_CONTRACT), content_type: 'text/plain' }), { passes: 'UTF-8 text is a supported document' }),
    upload('mislabelled-content-type', (_, c) => ({ content_type: pick(c, ['image/tiff', 'application/msword', '', 'x'.repeat(5_000)]) }), { passes: 'the type is sniffed from the bytes, never taken from content_type' }),
    upload('junk-before-pdf-header', () => inline(junkPrefixed), { passes: 'a PDF header within the first 1024 bytes is a PDF (scanners and mail gateways prepend lines)' }),
    upload('owner-password-only-pdf', () => inline(readable), { passes: 'an owner password restricts editing, not reading: the text layer opens without it' }),
    upload('uppercase-sha256', (v) => ({ sha256: v.sha256.toUpperCase() }), { passes: 'hex digits are compared case-insensitively' }),
    upload('wrong-size-bytes', (_, c) => ({ size_bytes: pick(c, [0, -1, 2 ** 52]) }), { passes: 'size_bytes is informational: the sha256 check is what proves the bytes' }),
    upload('path-in-filename', (_, c) => ({ filename: pick(c, ['../../../etc/passwd', 'C:\\Windows\\system32\\config', `${'n'.repeat(200_000)}.pdf`, '']) }), { passes: 'the file name is for display only, never a path' }),
    upload('absurd-uploaded-at', (_, c) => ({ uploaded_at: pick(c, [-1, 0, Date.UTC(9999, 11, 31)]) }), { passes: 'uploaded_at is the API\'s record; extraction does not use it' }),
    upload('page-count-lie', () => inline(HOSTILE_PDFS.pageCountLie), { passes: 'the pages the tree holds are read; a /Count it does not hold is not trusted' }),
    upload('scanned-page', () => inline(scan), { passes: 'a page without a text layer is OCR\'d' }, { max: 1 }),
  ];
}

/**
 * docs.uploads.v1 -> documents -> docs.entities.v1 (and docs.entities-review.v1 when flagged). The
 * good upload is the native 3-page contract, inline; its marker is the document_id.
 */
export const DOCUMENT_UPLOADS: FuzzTable<DocumentUpload> = {
  good: (run, n, now) => ({ document_id: `${run}-d${n}`, filename: 'contract.pdf', content_type: 'application/pdf', size_bytes: CONTRACT.length, sha256: sha256(CONTRACT), uploaded_at: now - 1_000, source: 'faults', content: CONTRACT, blob_uri: null }),
  keyOf: (v) => v.document_id,
  markerOf: (v) => v.document_id,
  kinds: [
    // The common bomb is 3 MiB, under this topic's 16 MiB: an 18 MiB one is over it once decompressed.
    ...commonKinds<DocumentUpload>(uploadType(), 'source', TOPICS.documentUploads.maxMessageBytes).map((k) =>
      k.name !== 'bomb-valid-avro'
        ? k
        : {
            name: k.name,
            max: 2,
            records: (c: KindContext<DocumentUpload>): FuzzRecord[] => {
              const value = { ...c.good(), source: 'x'.repeat(6 * BOMB_BYTES) };
              return [{ kind: k.name, key: c.keyOf(value), value: c.encode(value), expect: { deadLetter: 'DECODE', reason: /max\.message\.bytes of 16777216/ }, marker: c.markerOf(value), gzip: true }];
            },
          },
    ),
    ...documentKinds(),
  ],
};

function uploadType(): avro.Type {
  return avro.Type.forSchema(loadSchema(TOPICS.documentUploads.schema) as avro.Schema);
}
