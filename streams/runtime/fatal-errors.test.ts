import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { fatalKafkaError } from './fatal-errors.ts';

const { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;

const protocol = (type: string) => new KafkaJSProtocolError({ message: type, type, code: 0, retriable: false } as never);

test('fenced and unauthorized are fatal, also when kafkajs wraps them after its retries', () => {
  assert.equal(fatalKafkaError(protocol('PRODUCER_FENCED')), true);
  assert.equal(fatalKafkaError(protocol('INVALID_PRODUCER_EPOCH')), true);
  assert.equal(fatalKafkaError(protocol('GROUP_AUTHORIZATION_FAILED')), true);
  assert.equal(fatalKafkaError(new KafkaJSNumberOfRetriesExceeded(protocol('TOPIC_AUTHORIZATION_FAILED'), { retryCount: 5, retryTime: 100 })), true);
  assert.equal(fatalKafkaError(Object.assign(new Error('SASL SCRAM-SHA-256 authentication failed'), { name: 'KafkaJSSASLAuthenticationError' })), true);
});

test('what a broker restart leaves behind is not fatal: a new session fixes it', () => {
  // kafkajs' own words for a producer whose commit failed mid-outage, and for a missing coordinator.
  assert.equal(fatalKafkaError(new KafkaJSNonRetriableError('Transaction state exception: Cannot call "beginTransaction" in state "COMMITTING"')), false);
  assert.equal(fatalKafkaError(Object.assign(new KafkaJSNonRetriableError('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound' })), false);
  assert.equal(fatalKafkaError(protocol('NOT_COORDINATOR')), false);
  assert.equal(fatalKafkaError(new Error('Connection closed')), false);
  assert.equal(fatalKafkaError(undefined), false);
});
