import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../src/shared/notification.js';
import { kafkaJavaArgs, kafkaLog4jProperties, kafkaPom, kafkaServerProperties, newKafkaClusterId } from './kafka.js';
import { repoRoot, resolveInfraPaths } from './paths.js';
import { temporalServerArgs } from './temporal.js';

function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes('=')) continue;
    const i = line.indexOf('=');
    map.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return map;
}

/** Pairs of `--flag value` in an argument list, in order. */
function flagValues(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));
}

describe('temporalServerArgs', () => {
  const args = temporalServerArgs({
    port: 17233,
    uiPort: 18233,
    dbFile: '/x/temporal.db',
    namespace: 'notify',
    sqlitePragmas: ['journal_mode=WAL', 'synchronous=NORMAL'],
  });

  it('starts a persistent dev server on loopback with the configured ports, db file and namespace', () => {
    expect(args.slice(0, 2)).toEqual(['server', 'start-dev']);
    expect(flagValues(args, '--ip')).toEqual(['127.0.0.1']);
    expect(flagValues(args, '--port')).toEqual(['17233']);
    expect(flagValues(args, '--ui-port')).toEqual(['18233']);
    expect(flagValues(args, '--db-filename')).toEqual(['/x/temporal.db']);
    expect(flagValues(args, '--namespace')).toEqual(['notify']);
    expect(flagValues(args, '--log-level')).toEqual(['warn']);
  });

  it('registers every search attribute of the workflow with its type', () => {
    const expected = Object.values(SEARCH_ATTRIBUTES).map((a) => `${a.name}=${a.type}`);
    expect(flagValues(args, '--search-attribute')).toEqual(expected);
    expect(expected).toContain('NotifyChannels=KeywordList');
  });

  it('passes each SQLite pragma and enables the activity APIs and eager workflow start', () => {
    expect(flagValues(args, '--sqlite-pragma')).toEqual(['journal_mode=WAL', 'synchronous=NORMAL']);
    expect(flagValues(args, '--dynamic-config-value')).toEqual([
      'frontend.activityAPIsEnabled=true',
      'system.enableEagerWorkflowStart=true',
    ]);
  });
});

describe('kafkaServerProperties', () => {
  const props = parseProperties(kafkaServerProperties({ port: 19092, controllerPort: 19093, dataDir: '/d/kafka' }));

  it('runs one KRaft node as broker and controller on loopback ports', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('node.id')).toBe('1');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(props.get('controller.listener.names')).toBe('CONTROLLER');
    expect(props.get('controller.quorum.bootstrap.servers')).toBe('127.0.0.1:19093');
    expect(props.get('listener.security.protocol.map')).toBe('PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT');
    expect(props.get('log.dirs')).toBe('/d/kafka');
  });

  it('never auto-creates topics and gives internal topics replication factor 1', () => {
    expect(props.get('auto.create.topics.enable')).toBe('false');
    expect(props.get('offsets.topic.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.min.isr')).toBe('1');
    expect(props.get('share.coordinator.state.topic.replication.factor')).toBe('1');
    expect(props.get('min.insync.replicas')).toBe('1');
    expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
  });
});

describe('Kafka runtime files', () => {
  it('resolves the broker with log4j and pins the SLF4J 2 API the log4j binding needs', () => {
    const pom = kafkaPom('4.1.1');
    expect(pom).toContain('<artifactId>kafka_2.13</artifactId><version>4.1.1</version>');
    expect(pom).toContain('<artifactId>log4j-core</artifactId><version>2.25.3</version>');
    expect(pom).toContain('<artifactId>log4j-slf4j2-impl</artifactId><version>2.25.3</version>');
    expect(pom).toMatch(/<artifactId>slf4j-api<\/artifactId><version>2\./);
  });

  it('logs WARN and above to the given file', () => {
    const props = parseProperties(kafkaLog4jProperties('/l/kafka.log'));
    expect(props.get('appender.file.fileName')).toBe('/l/kafka.log');
    expect(props.get('rootLogger.level')).toBe('WARN');
  });

  it('runs kafka.Kafka with a fixed heap, the log4j file and the lib wildcard classpath', () => {
    const args = kafkaJavaArgs({
      libDir: '/k/lib',
      heap: '256m',
      log4jFile: '/k/log4j2.properties',
      propertiesFile: '/k/server.properties',
    });
    expect(args).toEqual(
      expect.arrayContaining(['-Xms256m', '-Xmx256m', '-Dlog4j2.configurationFile=/k/log4j2.properties']),
    );
    expect(args.slice(-4)).toEqual(['-cp', '/k/lib/*', 'kafka.Kafka', '/k/server.properties']);
  });

  it('makes cluster ids shaped like Kafka Uuids (22 url-safe base64 chars, no leading dash)', () => {
    const ids = Array.from({ length: 200 }, () => newKafkaClusterId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('resolveInfraPaths', () => {
  it('keeps everything under <repo>/.notify by default', () => {
    const paths = resolveInfraPaths();
    expect(paths.home).toBe(`${repoRoot()}/.notify`);
    expect(paths.temporalBin).toBe(`${repoRoot()}/.notify/bin/temporal`);
    expect(paths.temporalDb).toBe(`${repoRoot()}/.notify/data/temporal.db`);
    expect(paths.kafkaLib).toBe(`${repoRoot()}/.notify/kafka/lib`);
    expect(paths.kafkaPid).toBe(`${repoRoot()}/.notify/run/kafka.pid`);
  });

  it('takes a relative NOTIFY_HOME from the repo root and an absolute one as is', () => {
    expect(resolveInfraPaths('tmp/home').home).toBe(`${repoRoot()}/tmp/home`);
    expect(resolveInfraPaths('/var/notify').dataDir).toBe('/var/notify/data');
  });

  it('finds the repo root from the module location (it holds package.json)', async () => {
    const { readFileSync } = await import('node:fs');
    expect((JSON.parse(readFileSync(`${repoRoot()}/package.json`, 'utf8')) as { name: string }).name).toBe('notify');
  });
});
