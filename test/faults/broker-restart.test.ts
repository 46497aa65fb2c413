// Fault suite: the Kafka broker is stopped and started again under load, twice. sensor-validation
// and a lake sink run through both restarts; maintenance-scorer and a second sink are started the
// moment the broker answers after the first, while it may still be loading group coordinators
// (GROUP/COORDINATOR_LOAD_IN_PROGRESS: startup must retry, not fail), and run through the second.
// Exactly-once: 0 lost, 0 duplicated, every prediction exact. The broker is the stack's embedded
// one when this checkout started it (restarted in place, left running), else a throwaway one
// (services.ts); with a throwaway broker the scorer gets a throwaway Redis too, so its state
// matches the broker it reads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import { endpoints, quietLog, runId } from '../integration/helpers.ts';
import { PipelineLoad } from './pipeline-load.ts';
import { serviceLog, serviceUnderTest, type ServiceUnderTest } from './services.ts';

const stackLog = serviceLog();
let broker: ServiceUnderTest;
let redis: ServiceUnderTest | undefined;
let load: PipelineLoad | undefined;
before(async () => {
  broker = await serviceUnderTest('KAFKA_BROKERS', stackLog.log);
  if (broker.origin === 'throwaway') redis = await serviceUnderTest('REDIS_URL', stackLog.log, { throwaway: true });
});
after(async () => {
  await load?.stop();
  await broker?.dispose();
  await redis?.dispose();
});

test('broker stopped and started twice under load: every processor keeps running, 0 lost, 0 duplicated', { timeout: 300_000 }, async (t) => {
  t.diagnostic(`broker: ${broker.origin} at ${broker.endpoint}`);
  const ep = { ...endpoints(), kafkaBrokers: [broker.endpoint], ...(redis ? { redisUrl: redis.endpoint } : {}) };
  // Kafkajs logs every refused connection while the broker is down; the counts below say what happened.
  const kafka = createKafka('faults-broker-restart', ep.kafkaBrokers, quietLog.child({}, { level: 'fatal' }));
  load = new PipelineLoad(kafka, ep, runId(), { arms: 12, minutes: 120, billingEvents: 6_000 });
  await load.start({ lateScorer: true });
  // Twice: a burst the processors need seconds for, and the broker stopped at once, so
  // transactions, commits and fetches are in flight when it goes (where they are differs each time).
  const restart = async (label: string) => {
    const down = Date.now();
    const before = await load!.progress();
    await broker.stop();
    t.diagnostic(`${label}: broker stopped in ${Date.now() - down} ms; committed when it went: ${before}`);
    await sleep(3_000);
    const up = Date.now();
    await broker.start();
    t.diagnostic(`${label}: broker back after ${Date.now() - down} ms (start took ${Date.now() - up} ms)`);
    return up;
  };
  await load.send(0, 0.4);
  const up = await restart('first restart');
  await load.startLate();
  t.diagnostic(`the scorer and a second sink, started right after the restart, were up ${Date.now() - up} ms after it`);
  await load.send(0.4, 0.7);
  await restart('second restart');
  await load.send(0.7, 1);

  const { problems, counts } = await load.verify(150_000);
  t.diagnostic(counts);
  assert.deepEqual(problems, [], `after a broker restart (stack log:\n${stackLog.lines.slice(-6).join('\n')})`);
});
