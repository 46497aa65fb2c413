// A document this pipeline will not read, with a reason a person can act on ("encrypted: ...",
// "too many pages: ..."). It extends the runtime's RecordRejectedError, so a worker task that throws
// it dead-letters its record with that reason (worker-entry.ts) and the upload API can answer 4xx.
// Kept free of heavy imports: every worker thread loads it.
import { RecordRejectedError } from '../../runtime/record-rejected-error.ts';

/** Why a document was refused; the message starts with the same words. */
export type DocumentRejection =
  | 'empty'
  | 'too large'
  | 'unsupported type'
  | 'encrypted'
  | 'corrupt'
  | 'no pages'
  | 'too many pages'
  | 'page too large'
  | 'timed out';

export class DocumentRejectedError extends RecordRejectedError {
  readonly rejection: DocumentRejection;
  constructor(rejection: DocumentRejection, detail: string, options: { cause?: unknown } = {}) {
    super(`${rejection}: ${detail}`);
    this.rejection = rejection;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}
