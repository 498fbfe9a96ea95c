import { connect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterKafkaOptions } from './cluster.js';
import { CLUSTER_PORT_BASE_MAX, clusterLayout } from './layout.js';
import { portBaseProblem } from '../../../chaos/ports.js';
import { loadConfig } from '../../../src/config/config.js';
import { startTcpBalancer } from './tcp-balancer.js';
import type { TcpBalancer } from './tcp-balancer.js';
import { temporalNodeConfig } from './temporal-server.js';
import { parseTopology } from './topology.js';
import { kafkaServerProperties } from '../kafka.js';
import { freePort as pickFreePort } from '../../process-harness/index.js';

function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes('=')) continue;
    const i = line.indexOf('=');
    map.set(line.slice(0, i), line.slice(i + 1));
  }
  return map;
}

describe('cluster layout', () => {
  it('refuses a base whose Temporal membership ports would not fit the smallint Temporal stores them in', () => {
    expect(CLUSTER_PORT_BASE_MAX).toBe(32_719);
    expect(clusterLayout('/tmp/c', 32_719).temporalNodes[1]?.ports.workerMembership).toBe(32_767);
    expect(() => clusterLayout('/tmp/c', 32_720)).toThrow(
      /cluster port base 32720 is too high: .*smallint.*use a base of at most 32719/,
    );
    expect(() => loadConfig({ CLUSTER_PORT_BASE: '41700' })).toThrow(/CLUSTER_PORT_BASE.*at most 32719/s);
    expect(loadConfig({ CLUSTER_PORT_BASE: '29700' }).CLUSTER_PORT_BASE).toBe(29_700);
    // chaos --port-base: the cluster block starts 5000 above it.
    expect(portBaseProblem(27_719, 'cluster')).toBeUndefined();
    expect(portBaseProblem(27_720, 'cluster')).toMatch(/use a port base of at most 27719/);
    expect(portBaseProblem(41_000, 'embedded')).toBeUndefined();
  });

  const layout = clusterLayout('/c', 22700);

  it('gives every process its own ports, and each Temporal node its own loopback address', () => {
    const ports: number[] = [
      ...layout.kafka.flatMap((k) => [k.port, k.controllerPort]),
      layout.postgresPort,
      ...layout.temporalNodes.flatMap((n): number[] => Object.values({ ...n.ports })),
      layout.balancerPort,
      layout.uiPort,
    ];
    expect(new Set(ports).size).toBe(ports.length);
    expect(Math.min(...ports)).toBe(22700);
    expect(Math.max(...ports)).toBe(22751);
    expect(layout.kafka.map((k) => k.nodeId)).toEqual([1, 2, 3]);
    expect(layout.temporalNodes.map((n) => n.ip)).toEqual(['127.0.0.2', '127.0.0.3']);
  });

  it('configures 3 combined broker+controller nodes as static voters with RF 3, min ISR 2 and no unclean election', () => {
    const props = layout.kafka.map((k) =>
      parseProperties(
        kafkaServerProperties(clusterKafkaOptions({ layout, kafkaLibDir: '/lib', kafkaHeap: '256m' }, k.nodeId)),
      ),
    );
    expect(props.map((p) => p.get('node.id'))).toEqual(['1', '2', '3']);
    for (const p of props) {
      expect(p.get('process.roles')).toBe('broker,controller');
      expect(p.get('controller.quorum.voters')).toBe('1@127.0.0.1:22710,2@127.0.0.1:22711,3@127.0.0.1:22712');
      expect(p.has('controller.quorum.bootstrap.servers')).toBe(false);
      expect(p.get('default.replication.factor')).toBe('3');
      expect(p.get('min.insync.replicas')).toBe('2');
      expect(p.get('unclean.leader.election.enable')).toBe('false');
      expect(p.get('offsets.topic.replication.factor')).toBe('3');
      expect(p.get('transaction.state.log.min.isr')).toBe('2');
    }
    expect(props.map((p) => p.get('listeners'))).toEqual([
      'PLAINTEXT://127.0.0.1:22700,CONTROLLER://127.0.0.1:22710',
      'PLAINTEXT://127.0.0.1:22701,CONTROLLER://127.0.0.1:22711',
      'PLAINTEXT://127.0.0.1:22702,CONTROLLER://127.0.0.1:22712',
    ]);
  });

  it('keeps the single-node broker on a standalone dynamic quorum with replication factor 1', () => {
    const p = parseProperties(kafkaServerProperties({ port: 9092, controllerPort: 9093, dataDir: '/d' }));
    expect(p.get('controller.quorum.bootstrap.servers')).toBe('127.0.0.1:9093');
    expect(p.has('controller.quorum.voters')).toBe(false);
    expect(p.get('default.replication.factor')).toBe('1');
    expect(p.get('min.insync.replicas')).toBe('1');
  });
});

describe('Temporal server node configuration', () => {
  const layout = clusterLayout('/c', 22700);
  const node = layout.temporalNodes[1]!;
  const config = temporalNodeConfig(node, {
    db: {
      host: '127.0.0.1',
      port: 22720,
      user: 'postgres',
      password: 'pw',
      database: 'temporal',
      visibilityDatabase: 'temporal_visibility',
    },
    numHistoryShards: 16,
    dynamicConfigFile: '/c/dc.yaml',
  }) as {
    persistence: {
      defaultStore: string;
      visibilityStore: string;
      numHistoryShards: number;
      datastores: Record<string, { sql: Record<string, unknown> }>;
    };
    global: { membership: { broadcastAddress: string } };
    services: Record<string, { rpc: { grpcPort: number; membershipPort: number; bindOnIP: string } }>;
    publicClient: { hostPort: string };
  };

  it('keeps persistence and visibility on PostgreSQL through the postgres12 plugin, with the chosen shard count', () => {
    const p = config.persistence;
    expect(p.numHistoryShards).toBe(16);
    const stores = [p.datastores[p.defaultStore]!.sql, p.datastores[p.visibilityStore]!.sql];
    expect(stores.map((s) => s.pluginName)).toEqual(['postgres12', 'postgres12']);
    expect(stores.map((s) => s.databaseName)).toEqual(['temporal', 'temporal_visibility']);
    expect(stores.every((s) => s.connectAddr === '127.0.0.1:22720')).toBe(true);
  });

  it('binds and broadcasts every service on the node’s own loopback address and ports', () => {
    expect(config.global.membership.broadcastAddress).toBe('127.0.0.3');
    expect(Object.keys(config.services).sort()).toEqual(['frontend', 'history', 'matching', 'worker']);
    for (const s of Object.values(config.services)) expect(s.rpc.bindOnIP).toBe('127.0.0.3');
    expect(config.services.frontend!.rpc.grpcPort).toBe(22740);
    expect(config.publicClient.hostPort).toBe('127.0.0.3:22740');
  });
});

describe('parseTopology', () => {
  it('reads --topology in both spellings and leaves other arguments', () => {
    expect(parseTopology(['start', '--topology', 'cluster'])).toEqual({ topology: 'cluster', rest: ['start'] });
    expect(parseTopology(['--topology=embedded', 'x'])).toEqual({ topology: 'embedded', rest: ['x'] });
    expect(parseTopology(['status'])).toEqual({ topology: 'embedded', rest: ['status'] });
  });

  it('rejects an unknown topology naming the choices', () => {
    expect(() => parseTopology(['--topology', 'k8s'])).toThrow(/"embedded" or "cluster"/);
  });
});

describe('TCP load balancer in front of the Temporal frontends', () => {
  const servers: Server[] = [];
  let balancer: TcpBalancer | undefined;
  afterEach(async () => {
    await balancer?.close();
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  async function echoServer(tag: string): Promise<number> {
    const server = createServer((socket) => socket.on('data', (d) => socket.write(`${tag}:${d.toString()}`)));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  function ask(port: number, text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => socket.write(text));
      socket.once('data', (d) => {
        resolve(d.toString());
        socket.destroy();
      });
      socket.once('error', reject);
    });
  }

  it('spreads connections over live backends and skips one that refuses connections', async () => {
    const a = await echoServer('a');
    const dead = await pickFreePort();
    const listen = await pickFreePort();
    balancer = await startTcpBalancer({ host: '127.0.0.1', port: listen }, [
      { host: '127.0.0.1', port: a },
      { host: '127.0.0.1', port: dead },
    ]);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await ask(listen, 'hi'));
    expect(answers).toEqual(['a:hi', 'a:hi', 'a:hi', 'a:hi']);
    expect(balancer.forwarded.get(`127.0.0.1:${a}`)).toBe(4);
    expect(balancer.forwarded.has(`127.0.0.1:${dead}`)).toBe(false);
  });
});
