// `npm run demo` / `streamscore demo`: brings up the stack (or uses the one in the env), declares the
// topics and schemas, runs every pipeline that exists on bundled data, and says where to look.
import { TOPICS, dlqTopic } from '../schemas/topics.ts';
import { loadSchema } from '../schemas/topics.ts';
import { sampleReadings } from '../connectors/sample-readings.ts';
import { up } from '../infra/stack/stack.ts';
import { runtimeOptionsFromEnv } from '../streams/runtime/config.ts';
import { createKafka } from '../streams/runtime/kafka-client.ts';
import { startProcessor } from '../streams/runtime/kafka-runner.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { sensorValidation } from '../streams/sensor-validation/topology.ts';
import { serviceEnv } from './env.ts';
import { applyTopics } from './topics.ts';
import { demoFactoryGuard } from './demo-factoryguard.ts';
import { demoSparkScale } from './demo-sparkscale.ts';
import { demoVision } from './demo-vision.ts';
import { demoDocuments } from './demo-documents.ts';
import { demoPromotion, demoReplay, DEMO_MODEL } from './demo-models.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

export async function run(args: string[]): Promise<number> {
  const follow = args.includes('--follow');
  say('== streamscore demo ==');
  const statuses = await up();
  for (const s of statuses) say(`  ${s.service.padEnd(16)} ${s.managed.padEnd(9)} ${s.endpoint}`);
  const env = serviceEnv();
  const { created, subjects } = await applyTopics(env);
  say(`topics: ${created.length} created; ${subjects.size} schema subjects registered with BACKWARD compatibility`);
  // Every shipped model in the MLflow registry (runs, versions, champion aliases), once per data dir.
  await (await import('./models.ts')).seedAfterUp(say);

  const log = createLogger({ processor: sensorValidation.name }).child({}, { level: process.env.LOG_LEVEL ?? 'warn' });
  const options = { ...runtimeOptionsFromEnv({ ...env, METRICS_PORT: env.METRICS_PORT ?? '9464' }), logger: log };
  const processor = await startProcessor(sensorValidation, options).catch(async (err: Error) => {
    if (!/EADDRINUSE/.test(err.message)) throw err;
    return startProcessor(sensorValidation, { ...options, metricsPort: 0 });
  });
  say(`processor sensor-validation running: http://127.0.0.1:${processor.httpPort}/metrics (also /healthz, /readyz)`);

  const kafka = createKafka('streamscore-demo', options.kafkaBrokers, log);
  const serde = new AvroSerde(new ConfluentSchemaStore(options.schemaRegistryUrl));
  await serde.useTopic(TOPICS.sensorReadings.name, loadSchema(TOPICS.sensorReadings.schema));
  const gatewayId = `gw-demo-${Date.now().toString(36)}`;
  const readings = sampleReadings({ arms: 20, samplesPerSensor: 50, intervalMs: 1_000, start: Date.now() - 50_000, gatewayId });
  // Two broken inputs, to show the dead-letter path: bytes that are not Avro, and a temperature in °F.
  const bad = [
    { key: 'arm-001', value: Buffer.from('{"arm_id":"arm-001","temp":"hot"}') },
    { key: 'arm-002', value: serde.encode(TOPICS.sensorReadings.name, { ...readings[1], arm_id: 'arm-002', unit: 'degF', value: 140, sequence: 10_000 }) },
  ];
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: TOPICS.sensorReadings.name, messages: [...readings.map((r) => ({ key: r.arm_id, value: serde.encode(TOPICS.sensorReadings.name, r) })), ...bad] });
  await producer.disconnect();
  say(`produced ${readings.length} sample readings (20 arms x 3 sensors x 50 s, synthetic, gateway ${gatewayId}) + ${bad.length} broken records to ${TOPICS.sensorReadings.name}`);

  const expected = readings.length;
  const deadline = Date.now() + 60_000;
  const counter = (name: string) => processor.metrics.registry.getSingleMetric(name) as unknown as { get(): Promise<{ values: { value: number; labels: Record<string, string> }[] }> };
  let out = 0;
  while (Date.now() < deadline) {
    out = (await counter('streamscore_records_out_total').get()).values.reduce((n, v) => n + v.value, 0);
    if (out >= expected) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const dead = (await counter('streamscore_dlq_records_total').get()).values;
  say(`sensor-validation: ${out} readings validated -> ${TOPICS.sensorReadingsValidated.name}`);
  for (const d of dead) say(`  dead letters (${d.labels.stage}): ${d.value} -> ${dlqTopic(TOPICS.sensorReadings.name)}`);
  const scored = await demoFactoryGuard(options, say);
  await demoReplay(scored, say);
  await demoPromotion(say);
  const sparkScaleOk = await demoSparkScale(options, say);
  const vision = await demoVision(options, say);
  const documents = await demoDocuments(options, say);
  say('');
  say('where to look:');
  say(`  metrics        curl -s http://127.0.0.1:${processor.httpPort}/metrics | grep streamscore_`);
  say(`  schemas        curl -s ${options.schemaRegistryUrl}/subjects`);
  say(`  topics         npx streamscore topics list`);
  say(`  dead letters   kcat -b ${options.kafkaBrokers[0]} -C -t ${dlqTopic(TOPICS.sensorReadings.name)} -e -f '%k %h\\n'   (reason in headers)`);
  say(`  processors     npx streamscore run sensor-validation --describe   |   npx streamscore run maintenance-scorer --describe`);
  say(`  alerts         npx streamscore alerts tail --from-beginning`);
  say(`  scoring API    npx streamscore api-keys create --name me --scopes score > key.txt; npx streamscore scoring-api   then   curl -XPOST localhost:8095/v1/score -H "authorization: Bearer $(cat key.txt)" -H 'content-type: application/json' -d @readings.json`);
  say(`  gateway        npx streamscore gateway replay connectors/samples/cmapss-fd001-units1-2.txt --mapping connectors/mappings/cmapss-fd001.json --speed max`);
  say(`  churn scores   kcat -b ${options.kafkaBrokers[0]} -C -t ${TOPICS.churnPredictions.name} -e -c 5   |   Spark UI http://127.0.0.1:8090`);
  say(`  sparkscale     npx streamscore billing produce --source telco && npx streamscore lake sink   then   npx streamscore churn train --cutoff 2026-06-30 / churn score --date 2026-06-30`);
  say(`  live QC view   ${vision.liveViewUrl}  (while the demo runs: npm run demo -- --follow keeps it up; or npx streamscore vision live)`);
  say(`  vision         npx streamscore run vision-qc   +   npx streamscore camera simulate --fps 5 --cameras 2   +   npx streamscore vision live   |   npx streamscore vision inspect IMAGE --json`);
  say(`  documents API  ${documents.apiUrl}/v1/documents  (while the demo runs)   |   npx streamscore run documents + npx streamscore documents api`);
  say(`  lexiscan       npx streamscore documents extract streams/documents/fixtures/*.pdf --json   |   npx streamscore documents search --law US-TX`);
  if (env.MLFLOW_TRACKING_URI) say(`  models         MLflow UI ${env.MLFLOW_TRACKING_URI} (runs, versions, aliases, lineage of every model)   |   npx streamscore models list   |   npx streamscore models history ${DEMO_MODEL}`);
  say(`  replay         npx streamscore replay maintenance-scorer --from <ISO time> --to now [--model NAME@VERSION] [--out replay.jsonl]`);
  say(`  stack          npx streamscore infra status   |   npx streamscore infra down   |   npx streamscore spark down`);
  if (follow) {
    say('following: the processor keeps running; Ctrl-C stops it');
    vision.keepFilming();
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  }
  await documents.stop();
  await vision.stop();
  await processor.stop();
  return out >= expected && sparkScaleOk && vision.ok && documents.ok ? 0 : 1;
}
