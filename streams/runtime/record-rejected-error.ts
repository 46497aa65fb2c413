// Thrown by a worker task (or a handler) to send its record to the dead-letter topic with a reason:
// the input is bad in a way only the task can see (an image that does not decode, a frame of the
// wrong size). It crosses the worker-thread boundary as data (worker-entry.ts turns it into
// { rejected: reason }), since structured clone keeps neither the class nor the stage of an Error.
// Kept free of heavy imports: every worker thread loads it.
import { StreamError } from './errors.ts';

export class RecordRejectedError extends StreamError {
  constructor(reason: string) {
    super('processing', reason);
  }
}

/** True for a RecordRejectedError, also one made by another copy of this module (a task bundled separately). */
export function isRecordRejected(err: unknown): err is Error {
  return err instanceof RecordRejectedError || (err instanceof Error && err.name === 'RecordRejectedError');
}
