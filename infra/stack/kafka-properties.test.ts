import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pinnedKafka } from './kafka.ts';
import { CLUSTER_ID, MAX_MESSAGE_BYTES, kafkaServerProperties, renderProperties } from './kafka-properties.ts';

describe('kafkaServerProperties', () => {
  const props = kafkaServerProperties({ host: '127.0.0.1', port: 19092, controllerPort: 19093, logDirs: '/d/kafka/logs' });

  it('is a single combined KRaft node with a static quorum on the given ports', () => {
    assert.equal(props['process.roles'], 'broker,controller');
    assert.equal(props['node.id'], 1);
    assert.equal(props['controller.quorum.voters'], '1@127.0.0.1:19093');
    assert.equal(props['listeners'], 'PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    assert.equal(props['advertised.listeners'], 'PLAINTEXT://127.0.0.1:19092');
    assert.equal(props['log.dirs'], '/d/kafka/logs');
  });

  it('sets every internal topic to replication factor 1', () => {
    for (const key of Object.keys(props).filter((k) => k.endsWith('replication.factor') || k.endsWith('min.isr'))) {
      assert.equal(props[key], 1, key);
    }
    assert.equal(props['share.coordinator.state.topic.replication.factor'], 1);
    assert.equal(props['transaction.state.log.min.isr'], 1);
  });

  it('refuses auto-created topics and allows 16 MiB documents', () => {
    assert.equal(props['auto.create.topics.enable'], false);
    assert.ok(MAX_MESSAGE_BYTES > 16 * 1024 * 1024);
    assert.equal(props['message.max.bytes'], MAX_MESSAGE_BYTES);
    assert.equal(props['replica.fetch.max.bytes'], MAX_MESSAGE_BYTES);
  });
});

describe('renderProperties', () => {
  it('writes a header and key=value lines', () => {
    assert.equal(renderProperties({ 'a.b': 1, 'c': false, 'dir': 'C:\\x' }, 'generated'), '# generated\na.b=1\nc=false\ndir=C:\\\\x\n');
  });
});

describe('CLUSTER_ID', () => {
  it('is a 22-character base64url uuid', () => {
    assert.match(CLUSTER_ID, /^[A-Za-z0-9_-]{22}$/);
  });
});

describe('pinnedKafka', () => {
  it('reads the artifact and version of the checked-in pom', () => {
    const pom = readFileSync(new URL('../maven/kafka-pom.xml', import.meta.url), 'utf8');
    const pinned = pinnedKafka(pom);
    assert.match(pinned.artifactId, /^kafka_2\.1[0-9]$/);
    assert.match(pinned.version, /^\d+\.\d+\.\d+$/);
  });

  it('fails clearly on a pom without them', () => {
    assert.throws(() => pinnedKafka('<project/>'), /cannot find the kafka_2.x artifact/);
  });
});
