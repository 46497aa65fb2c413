import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS } from '../../../schemas/topics.ts';
import { catalogueTopics, parseReplayOut, replayTopics } from './sink.ts';
import { progressReporter } from './progress.ts';

const outputs = [TOPICS.maintenancePredictions, TOPICS.maintenanceAlerts];

test('--out: NAME.replay is a topic, anything else a file', () => {
  assert.deepEqual(parseReplayOut('incident-42.replay'), { kind: 'topic', name: 'incident-42.replay' });
  assert.deepEqual(parseReplayOut('out/incident.jsonl'), { kind: 'file', path: 'out/incident.jsonl' });
  assert.deepEqual(parseReplayOut('./x.replay'), { kind: 'file', path: './x.replay' });
  assert.throws(() => parseReplayOut(TOPICS.maintenanceAlerts.name), /is a live topic: replay never writes live topics/);
});

test('replay topics: one per output topic, ending in .replay; never a catalogue topic', () => {
  assert.deepEqual([...replayTopics('incident-42.replay', outputs).values()], ['incident-42.factory.maintenance-predictions.v1.replay', 'incident-42.factory.maintenance-alerts.v1.replay']);
  assert.throws(() => replayTopics('incident-42', outputs), /must end in \.replay/);
  assert.throws(() => replayTopics('.replay', outputs), /needs a name before \.replay/);
  assert.throws(() => replayTopics('a b.replay', outputs), /must end in \.replay and use only/);
  // Names are checked against the catalogue (here one holding a topic that the name would give).
  assert.throws(() => replayTopics('incident-42.replay', outputs, new Set(['incident-42.factory.maintenance-alerts.v1.replay'])), /is a live topic of the catalogue/);
  assert.ok(catalogueTopics().has(TOPICS.maintenancePredictions.name) && catalogueTopics().has(`${TOPICS.sensorReadings.name}.dlq`));
});

test('progress: a line every 5 s when stderr is not a terminal, with rate and ETA; a last line at the end', () => {
  let clock = 0;
  const written: string[] = [];
  const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const p = progressReporter({ stream, now: () => clock });
  for (clock = 1_000; clock <= 12_000; clock += 1_000) p.update('replaying', clock, 20_000);
  clock = 12_000;
  p.finish();
  assert.deepEqual(written, [
    'replaying: 5,000/20,000 records (25%), 1,000/s, ETA 15 s\n',
    'replaying: 10,000/20,000 records (50%), 1,000/s, ETA 10 s\n',
    'replaying: 12,000/20,000 records (60%), 1,000/s, ETA 8 s\n',
  ]);
});

test('progress: on a terminal a bar redrawn in place', () => {
  let clock = 0;
  const written: string[] = [];
  const stream = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const p = progressReporter({ stream, now: () => clock });
  clock = 1_000;
  p.update('replaying', 500, 1_000);
  p.finish();
  assert.match(written[0], /^\r\[#{15}\.{15}\] replaying: 500\/1,000 records \(50%\), 500\/s, ETA 1 s/);
  assert.ok(written[1].endsWith('\n'));
});
