// Every failure the runtime can meet is one of these classes. The `stage` says where in the record's
// path it failed (and becomes the DLQ reason); `retriable` says whether trying again can help. A
// retriable error (broker or registry unreachable) must NOT send a record to the DLQ: the batch is
// retried and, if it keeps failing, the consumer restarts from the last committed offset.

export const FAILURE_STAGES = ['decode', 'validation', 'processing', 'produce'] as const;
export type FailureStage = (typeof FAILURE_STAGES)[number];

export interface RecordCoordinates {
  topic: string;
  partition: number;
  offset: string;
}

export class StreamError extends Error {
  readonly stage: FailureStage;
  readonly retriable: boolean;
  constructor(stage: FailureStage, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.stage = stage;
    this.retriable = options.retriable ?? false;
  }
}

/** Bytes that are not Confluent wire format (magic byte 0 + 4-byte schema id + payload). */
export class WireFormatError extends StreamError {
  constructor(message: string) {
    super('decode', message);
  }
}

/** The registry does not know the schema id in the record header. */
export class UnknownSchemaError extends StreamError {
  readonly schemaId: number;
  constructor(schemaId: number, cause?: unknown) {
    super('decode', `schema id ${schemaId} is not registered in the schema registry`, { cause });
    this.schemaId = schemaId;
  }
}

/**
 * A record larger than its topic allows. The broker checks max.message.bytes against the compressed
 * batch, so a record that compresses well (a "decompression bomb") can be far larger once consumed.
 */
export class RecordTooLargeError extends StreamError {
  constructor(message: string) {
    super('decode', message);
  }
}

/** The writer schema exists but the payload does not decode with it, or cannot be resolved to the reader schema. */
export class AvroDecodeError extends StreamError {
  constructor(message: string, cause?: unknown) {
    super('decode', message, { cause });
  }
}

/** The registry could not be reached; the record is fine, so this is retried, never dead-lettered. */
export class RegistryUnavailableError extends StreamError {
  constructor(message: string, cause?: unknown) {
    super('decode', message, { retriable: true, cause });
  }
}

/** A decoded record breaks a semantic rule of its processor (range, unit, timestamp). */
export class ValidationError extends StreamError {
  constructor(message: string) {
    super('validation', message);
  }
}

/** An event older than the processor's allowed lateness: it can no longer be placed in its window. */
export class LateEventError extends StreamError {
  constructor(message: string) {
    super('validation', message);
  }
}

/** The processor's handler threw for this record. */
export class ProcessingError extends StreamError {
  constructor(message: string, cause?: unknown) {
    super('processing', message, { cause });
  }
}

/** A state store (Redis) failed; the records are not at fault, so the batch is retried. */
export class StateStoreError extends StreamError {
  constructor(message: string, cause?: unknown) {
    super('processing', message, { retriable: true, cause });
  }
}

/**
 * The state a batch would write is not there (Redis flushed, restarted empty, failed over): the
 * partition's state marker is missing or belongs to another rebuild. Nothing was written; the
 * runtime rebuilds the partition's state from Kafka and runs the batch again.
 */
export class StateLostError extends StreamError {
  constructor(message: string, cause?: unknown) {
    super('processing', message, { retriable: true, cause });
  }
}

/** An output could not be encoded or the broker refused it for good (e.g. too large). */
export class ProduceError extends StreamError {
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super('produce', message, options);
  }
}

/** Wraps anything thrown into a StreamError of the given stage, keeping typed errors as they are. */
export function asStreamError(stage: FailureStage, err: unknown): StreamError {
  if (err instanceof StreamError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const wrapped = stage === 'produce' ? new ProduceError(message, { cause: err }) : new StreamError(stage, message, { cause: err });
  if (err instanceof Error && stage !== 'produce') wrapped.name = err.name === 'Error' ? 'ProcessingError' : err.name;
  return wrapped;
}

/**
 * An offloaded task ran past its processor's `workers.recordDeadlineMs`: its worker was terminated
 * (and replaced) and the record dead-lettered, so one stuck record cannot stall its partition.
 */
export class RecordTimeoutError extends StreamError {
  constructor(message: string) {
    super('processing', message);
  }
}
