// The publisher's failures: a partition that is missing, unfinished or does not match the
// ChurnPrediction schema. A StackError, so the CLI prints it as one message plus its hint.
import { StackError } from '../../infra/stack/errors.ts';

export class PublishError extends StackError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options);
    this.name = 'PublishError';
  }
}
