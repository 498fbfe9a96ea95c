import { rmSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, tempDir } from '../../test/helpers/infra.js';
import { loadConfig } from '../../src/config/config.js';
import type { KafkaServerOptions } from './kafka.js';
import { ensureKafkaJars, kafkaPropertiesFile, privateKafkaOptions, startKafka, stopKafka } from './kafka.js';
import { resolveInfraPaths } from './paths.js';
import { isProcessAlive, runningPid } from './process.js';

/** A private single-node Kafka (spare ports, temporary data), independent of the one the global setup runs. */
const dir = tempDir('kafka');
const log = (): void => undefined;
let opts: KafkaServerOptions;

beforeAll(async () => {
  const config = loadConfig();
  const paths = resolveInfraPaths(config.NOTIFY_HOME);
  const libDir = await ensureKafkaJars({
    kafkaVersion: config.KAFKA_VERSION,
    kafkaDir: paths.kafkaDir,
    libDir: paths.kafkaLib,
    log,
  });
  const [port, controllerPort] = await freePorts(2);
  opts = privateKafkaOptions(dir, { libDir, port: port!, controllerPort: controllerPort! });
});

afterAll(async () => {
  if (opts) await stopKafka(opts);
  rmSync(dir, { recursive: true, force: true });
});

function client(): Kafka {
  return new Kafka({ clientId: 'infra-test', brokers: [`127.0.0.1:${opts.port}`], logLevel: logLevel.NOTHING });
}

async function readAll(topic: string, expected: number): Promise<string[]> {
  const consumer = client().consumer({ groupId: `g-${Date.now()}` });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolveRead, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${values.length} of ${expected} records`)), 30_000);
      void consumer.run({
        eachMessage: ({ message }) => {
          values.push(message.value?.toString() ?? '');
          if (values.length >= expected) {
            clearTimeout(timer);
            resolveRead();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

describe('local Kafka lifecycle', () => {
  it('starts, keeps records across a stop and restart on the same data, and reuses a running broker', async () => {
    const first = await startKafka(opts, log);
    expect(first.started).toBe(true);
    expect(await startKafka(opts, log)).toEqual({ pid: first.pid, started: false });

    const admin = client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'persist', numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = client().producer();
    await producer.connect();
    await producer.send({ topic: 'persist', acks: -1, messages: [{ value: 'kept-1' }, { value: 'kept-2' }] });
    await producer.disconnect();

    expect(await stopKafka(opts)).toBe('stopped');
    expect(isProcessAlive(first.pid)).toBe(false);
    expect(await stopKafka(opts)).toBe('not-running');

    const second = await startKafka(opts, log);
    expect(second.started).toBe(true);
    expect(await readAll('persist', 2)).toEqual(['kept-1', 'kept-2']);
  });

  it('does not auto-create topics', async () => {
    const producer = client().producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic: 'never-created', messages: [{ value: 'x' }] })).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
  });

  it('refuses to reuse storage formatted for another controller port, naming the fix', async () => {
    expect(await stopKafka(opts)).toBe('stopped');
    const [otherPort] = await freePorts(1);
    await expect(startKafka({ ...opts, controllerPort: otherPort! }, log)).rejects.toThrow(
      new RegExp(`formatted for controller port ${opts.controllerPort}.*KAFKA_CONTROLLER_PORT.*npm run infra -- wipe`),
    );
    expect(runningPid(opts.pidFile, kafkaPropertiesFile(opts.configDir))).toBeUndefined();
  });
});
