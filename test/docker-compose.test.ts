/**
 * Docker cannot run where the tests run, so this file keeps docker-compose.yml, the Dockerfile and the Temporal set-up
 * script honest against the code: variable names the config reads, one worker service per registered channel, entry
 * files that exist, search attributes the workflow sets, and an image that holds what the entry points import.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { channelNames } from '../src/channels/registry.js';
import { DEV_WEBHOOK_SIGNING_SECRET } from '../src/channels/webhook/index.js';
import { assertProductionChannelSettings, knownEnvVars, loadConfig } from '../src/config/config.js';
import { clusterKafkaOptions, clusterLayout, CLUSTER_KAFKA_NODES } from '../dev/infra/cluster/index.js';
import { kafkaServerProperties } from '../dev/infra/kafka.js';
import { DEFAULT_REPLICATION_FACTOR, replicationFor } from '../src/kafka/topics.js';
import { ensureNamespace } from '../src/temporal/namespace-setup.js';
import { SEARCH_ATTRIBUTES } from '../src/shared/notification.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, unknown> | string[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  profiles?: string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  deploy?: { replicas?: unknown };
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

// Compose supports YAML merge keys (`<<: *anchor`); the file uses them for the shared notify settings.
const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);

/** Services built from this repository's Dockerfile: the ones running notify code. */
const notifyServices = services.filter(([, s]) => {
  const context = typeof s.build === 'string' ? s.build : s.build?.context;
  return context === '.' || context === './';
});

function envOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  // Compose accepts numbers and booleans as values; null means "take it from the host environment".
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '',
    ]),
  );
}

function commandOf(service: ComposeService): string[] {
  const c = service.command ?? [];
  return Array.isArray(c) ? c : c.split(/\s+/).filter(Boolean);
}

/** The entry script of a command (`node --import tsx <node flags…> <entry> <args…>`): its first non-flag word. */
function entryOf(service: ComposeService): string | undefined {
  return commandOf(service).find((a) => !a.startsWith('-'));
}

/** `${VAR:-default}` / `${VAR-default}` → default; `${VAR}` without a default is reported (compose would leave it empty). */
function interpolateDefaults(value: string, where: string): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
    (_m, name: string, def: string | undefined) => {
      if (def === undefined)
        throw new Error(
          `${where}: \${${name}} has no default; write \${${name}:-<default>} so \`docker compose up\` works without an .env file`,
        );
      return def;
    },
  );
}

function dependsOnNames(service: ComposeService): string[] {
  const d = service.depends_on ?? [];
  return Array.isArray(d) ? d : Object.keys(d);
}

describe('docker-compose.yml', () => {
  it('runs the notify services from the image built by the Dockerfile', () => {
    expect(notifyServices.map(([name]) => name)).toEqual(
      expect.arrayContaining(['gateway', 'ingest', 'workflow-worker']),
    );
    for (const [name, service] of notifyServices) {
      const dockerfile = typeof service.build === 'string' ? 'Dockerfile' : (service.build?.dockerfile ?? 'Dockerfile');
      expect(existsSync(join(root, dockerfile)), `${name} builds from ${dockerfile}, which is missing`).toBe(true);
    }
  });

  it('names only environment variables the application reads', () => {
    const known = new Set(knownEnvVars());
    const unknown: string[] = [];
    for (const [name, service] of notifyServices) {
      for (const key of Object.keys(envOf(service))) if (!known.has(key)) unknown.push(`${name}: ${key}`);
    }
    expect(unknown, 'rename these to variables of src/config/config.ts (knownEnvVars) or remove them').toEqual([]);
  });

  it('gives every notify service a configuration that loadConfig accepts with the default values', () => {
    for (const [name, service] of notifyServices) {
      const env = Object.fromEntries(
        Object.entries(envOf(service)).map(([k, v]) => [k, interpolateDefaults(v, `${name}.${k}`)]),
      );
      expect(() => loadConfig(env), `service ${name}`).not.toThrow();
      const config = loadConfig(env);
      expect(config.NOTIFY_ENV, `service ${name}`).toBe('production');
      expect(config.KAFKA_BROKERS, `service ${name} must point at the kafka services`).toEqual([
        'kafka-1:9092',
        'kafka-2:9092',
        'kafka-3:9092',
      ]);
      expect(config.TEMPORAL_ADDRESS, `service ${name} must point at the temporal service`).toBe('temporal:7233');
    }
  });

  it('ships no development webhook secret, and each production channel worker refuses the development defaults by name', () => {
    expect(read('docker-compose.yml')).not.toContain(DEV_WEBHOOK_SIGNING_SECRET);
    const expected: Record<string, string> = {
      email: 'EMAIL_HOST',
      sms: 'SMS_AUTH_TOKEN',
      slack: 'SLACK_BOT_TOKEN',
      webhook: 'WEBHOOK_SIGNING_SECRET',
    };
    for (const channel of channelNames) {
      const service = compose.services[`worker-${channel}`];
      expect(service, `worker-${channel}`).toBeDefined();
      const env = Object.fromEntries(
        Object.entries(envOf(service!)).map(([k, v]) => [k, interpolateDefaults(v, `worker-${channel}.${k}`)]),
      );
      const config = loadConfig(env);
      expect(config.NOTIFY_ENV).toBe('production');
      expect(() => assertProductionChannelSettings(config, [channel]), `worker-${channel}`).toThrow(
        new RegExp(`${expected[channel] ?? '(unknown channel)'}: `),
      );
      // Disabling the channel explicitly is the other way out.
      expect(() =>
        assertProductionChannelSettings(loadConfig({ ...env, DISABLED_CHANNELS: channel }), [channel]),
      ).not.toThrow();
    }
  });

  it('has exactly one worker service per registered channel, serving only that channel', () => {
    expect(channelNames.length).toBeGreaterThan(0);
    for (const channel of channelNames) {
      const serving = notifyServices.filter(([, s]) => {
        const cmd = commandOf(s);
        const i = cmd.indexOf('--channels');
        return (
          i >= 0 &&
          (cmd[i + 1] ?? '')
            .split(',')
            .map((c) => c.trim())
            .includes(channel)
        );
      });
      expect(
        serving.map(([n]) => n),
        `channel ${channel}`,
      ).toHaveLength(1);
      const [name, service] = serving[0]!;
      const cmd = commandOf(service);
      expect(cmd[cmd.indexOf('--channels') + 1], `${name} should serve ${channel} alone so it scales on its own`).toBe(
        channel,
      );
      expect(cmd, `${name} must not also run workflows`).not.toContain('--workflows');
      expect(service.deploy?.replicas, `${name} replicas should be settable`).toBe(
        `\${${channel.toUpperCase()}_WORKER_REPLICAS:-2}`,
      );
    }
  });

  it('names no channel in a --channels flag that the registry does not know', () => {
    const known = new Set<string>(channelNames);
    for (const [name, service] of notifyServices) {
      const cmd = commandOf(service);
      const i = cmd.indexOf('--channels');
      if (i < 0) continue;
      for (const c of (cmd[i + 1] ?? '').split(','))
        expect(known.has(c.trim()), `${name} names channel "${c}"`).toBe(true);
    }
  });

  it('has a workflow worker, a gateway and a scalable ingest service', () => {
    const byEntry = (entry: string) => notifyServices.filter(([, s]) => entryOf(s) === entry);
    const workflowWorkers = byEntry('src/workers/main.ts').filter(([, s]) => commandOf(s).includes('--workflows'));
    expect(workflowWorkers).toHaveLength(1);
    expect(commandOf(workflowWorkers[0]![1])).not.toContain('--channels');
    const gateways = byEntry('src/api/main.ts');
    expect(gateways).toHaveLength(1);
    const gatewayEnv = envOf(gateways[0]![1]);
    // The gateway must listen on all interfaces inside its container, or the published port reaches nothing.
    expect(gatewayEnv.HTTP_HOST).toBe('0.0.0.0');
    const ingest = byEntry('src/ingest/main.ts');
    expect(ingest).toHaveLength(1);
    expect(ingest[0]![1].deploy?.replicas).toBe('${INGEST_REPLICAS:-2}');
  });

  it('references only entry files that exist', () => {
    expect(notifyServices.length).toBeGreaterThan(0);
    for (const [name, service] of notifyServices) {
      const entry = entryOf(service);
      // The image ships src/ only; development tooling (dev/) runs only where the checkout's dev/ is mounted.
      const mountsDev = (service.volumes ?? []).some(
        (v) => (typeof v === 'string' ? v.split(':')[0] : v.source) === './dev',
      );
      expect(entry, `${name} has no command`).toMatch(mountsDev ? /^dev\/.+\.ts$/ : /^src\/.+\.ts$/);
      expect(existsSync(join(root, entry!)), `${name}: ${entry} does not exist`).toBe(true);
    }
  });

  it('runs the dev sinks only under the dev profile, with channel defaults pointing at them', () => {
    const sinks = compose.services.sinks;
    expect(sinks, 'a sinks service').toBeDefined();
    expect(sinks!.profiles).toEqual(['dev']);
    expect(commandOf(sinks!)[0]).toBe('dev/sinks/main.ts');
    expect(envOf(sinks!).SINKS_HOST).toBe('0.0.0.0');
    for (const [name, service] of notifyServices) {
      if (name === 'sinks') continue;
      expect(service.profiles, `${name} must run without a profile`).toBeUndefined();
      // A hard dependency on a profiled service would make `docker compose up` without --profile dev fail.
      const deps = service.depends_on;
      if (deps !== undefined && !Array.isArray(deps) && deps.sinks !== undefined)
        expect(deps.sinks.required, `${name} depends_on sinks`).toBe(false);
    }
  });

  it('depends only on services it defines, and mounts only files that exist', () => {
    const defined = new Set(Object.keys(compose.services));
    for (const [name, service] of services) {
      for (const dep of dependsOnNames(service))
        expect(defined.has(dep), `${name} depends on undefined service ${dep}`).toBe(true);
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0]! : (volume.source ?? '');
        if (!source.startsWith('./')) continue;
        expect(existsSync(join(root, source)), `${name} mounts ${source}, which is missing`).toBe(true);
      }
    }
  });

  it('waits for Temporal to be set up before starting anything that talks to it', () => {
    for (const name of ['ingest', 'workflow-worker', ...channelNames.map((c) => `worker-${c}`)]) {
      const deps = compose.services[name]?.depends_on;
      expect(deps && !Array.isArray(deps) ? deps['temporal-setup']?.condition : undefined, name).toBe(
        'service_completed_successfully',
      );
    }
  });

  it('runs 3 Kafka brokers as KRaft voters with the replication settings of the cluster topology', () => {
    const brokers = services.filter(([, s]) => s.image?.startsWith('apache/kafka:') === true);
    expect(brokers.map(([name]) => name).sort()).toEqual(
      clusterLayout('/x', 22700).kafka.map((k) => `kafka-${k.nodeId}`),
    );
    expect(brokers).toHaveLength(CLUSTER_KAFKA_NODES);
    // The broker settings notify's own cluster topology generates (dev/infra/cluster), as KAFKA_* variables.
    const layout = clusterLayout('/x', 22700);
    const generated = parseProperties(
      kafkaServerProperties(clusterKafkaOptions({ layout, kafkaLibDir: '/lib', kafkaHeap: '256m' }, 1)),
    );
    const synced = [
      'process.roles',
      'auto.create.topics.enable',
      'default.replication.factor',
      'min.insync.replicas',
      'unclean.leader.election.enable',
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
      'share.coordinator.state.topic.replication.factor',
      'share.coordinator.state.topic.min.isr',
    ];
    for (const [name, service] of brokers) {
      const env = envOf(service);
      expect(service.image).toBe('apache/kafka:4.1.1');
      for (const key of synced)
        expect(env[`KAFKA_${key.toUpperCase().replace(/\./g, '_')}`], `${name}: ${key}`).toBe(generated.get(key));
      expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS, name).toBe(brokers.map(([n], i) => `${i + 1}@${n}:9093`).join(','));
    }
    expect(new Set(brokers.map(([, s]) => envOf(s).KAFKA_NODE_ID))).toEqual(new Set(['1', '2', '3']));
    expect(new Set(brokers.map(([, s]) => envOf(s).CLUSTER_ID)).size).toBe(1);
  });

  it('points the notify services at every broker, with the replication factor the cluster size gives and min ISR 2', () => {
    const names = services.filter(([, s]) => s.image?.startsWith('apache/kafka:') === true).map(([n]) => `${n}:9092`);
    for (const [name, service] of notifyServices) {
      const env = Object.fromEntries(
        Object.entries(envOf(service)).map(([k, v]) => [k, interpolateDefaults(v, `${name}.${k}`)]),
      );
      const config = loadConfig(env);
      expect(config.KAFKA_BROKERS, name).toEqual(names);
      expect(config.KAFKA_REPLICATION_FACTOR, name).toBe(DEFAULT_REPLICATION_FACTOR);
      expect(replicationFor(names.length, config.KAFKA_REPLICATION_FACTOR), name).toEqual({
        replicationFactor: 3,
        minInsyncReplicas: 2,
      });
    }
  });

  it('keeps Temporal on PostgreSQL with the history shard count of the cluster topology', () => {
    const temporal = envOf(compose.services.temporal!);
    expect(temporal.DB).toBe('postgres12');
    expect(dependsOnNames(compose.services.temporal!)).toContain('postgresql');
    expect(Number(interpolateDefaults(temporal.NUM_HISTORY_SHARDS ?? '', 'temporal.NUM_HISTORY_SHARDS'))).toBe(
      loadConfig({}).TEMPORAL_HISTORY_SHARDS,
    );
  });
});

function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes('=')) continue;
    const i = line.indexOf('=');
    map.set(line.slice(0, i), line.slice(i + 1));
  }
  return map;
}

describe('Temporal set-up (temporal-setup service)', () => {
  it('runs the TypeScript set-up job from the notify image (the code the cluster topology runs)', () => {
    const setup = compose.services['temporal-setup']!;
    expect(notifyServices.map(([n]) => n)).toContain('temporal-setup');
    expect(commandOf(setup)).toEqual(['src/temporal/setup-main.ts']);
    expect(existsSync(join(root, 'src/temporal/setup-main.ts'))).toBe(true);
    expect(read('src/temporal/setup-main.ts')).toContain('ensureNamespace');
  });

  it('uses the namespace the notify services use', () => {
    const namespaces = new Set(notifyServices.map(([, s]) => envOf(s).TEMPORAL_NAMESPACE));
    expect(namespaces.size).toBe(1);
    expect(envOf(compose.services['temporal-ui']!).TEMPORAL_DEFAULT_NAMESPACE).toBe([...namespaces][0]);
  });

  it('keeps closed workflows longer than Kafka keeps records, with the retention the services expect', () => {
    const setupEnv = envOf(compose.services['temporal-setup']!);
    const hours = loadConfig(
      Object.fromEntries(Object.entries(setupEnv).map(([k, v]) => [k, interpolateDefaults(v, `temporal-setup.${k}`)])),
    ).TEMPORAL_RETENTION_HOURS;
    for (const [name, service] of notifyServices) {
      const env = Object.fromEntries(
        Object.entries(envOf(service)).map(([k, v]) => [k, interpolateDefaults(v, `${name}.${k}`)]),
      );
      const config = loadConfig(env);
      expect(config.TEMPORAL_RETENTION_HOURS, `${name}: TEMPORAL_RETENTION_HOURS`).toBe(hours);
      // REJECT_DUPLICATE only dedupes a redelivered record while the closed run is retained.
      expect(hours * 3_600_000, `${name}: namespace retention vs KAFKA_TOPIC_RETENTION_MS`).toBeGreaterThan(
        config.KAFKA_TOPIC_RETENTION_MS,
      );
    }
  });

  it('registers the namespace with its retention and typed search attributes on a real Temporal server, and a second run changes nothing', async () => {
    const address = inject('temporalAddress');
    const namespace = `compose-setup-${randomBytes(4).toString('hex')}`;
    const connection = await Connection.connect({ address });
    try {
      const first = await ensureNamespace({ address, namespace, retentionHours: 192 });
      expect(first.registered).toBe(true);
      expect(first.addedSearchAttributes).toEqual(
        Object.values(SEARCH_ATTRIBUTES)
          .map((a) => a.name)
          .sort(),
      );
      const second = await ensureNamespace({ address, namespace, retentionHours: 192 });
      expect(second).toEqual({ registered: false, retentionUpdated: false, addedSearchAttributes: [] });

      const described = await connection.workflowService.describeNamespace({ namespace });
      expect(described.namespaceInfo?.name).toBe(namespace);
      expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(192 * 3600);
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      const typeNames: Record<string, number> = {
        Keyword: 2,
        Int: 3,
        Double: 4,
        Bool: 5,
        Datetime: 6,
        KeywordList: 7,
        Text: 1,
      };
      for (const attribute of Object.values(SEARCH_ATTRIBUTES)) {
        expect(listed.customAttributes?.[attribute.name], attribute.name).toBe(typeNames[attribute.type]);
      }
    } finally {
      await connection.operatorService.deleteNamespace({ namespace }).catch(() => undefined);
      await connection.close();
    }
  }, 120_000);
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM\s+/m).slice(1);
  const finalStage = stages[stages.length - 1] ?? '';
  const instructions = (stage: string, op: string) =>
    stage
      .split('\n')
      .filter((l) => l.trim().toUpperCase().startsWith(`${op} `))
      .map((l) => l.trim());
  const pkg = JSON.parse(read('package.json')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };

  it('builds on node:20-bookworm-slim and runs as a non-root user', () => {
    expect(stages.every((s) => s.startsWith('node:20-bookworm-slim'))).toBe(true);
    const user = instructions(finalStage, 'USER').at(-1);
    expect(user, 'the final stage needs a USER').toBeDefined();
    expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/);
  });

  it('copies package.json, package-lock.json and src into the image and installs with npm ci from the lock file', () => {
    const copied = stages
      .flatMap((s) => instructions(s, 'COPY'))
      .filter((l) => !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const needed of ['package.json', 'package-lock.json', 'src', 'src/'])
      expect(ignored, `.dockerignore must not exclude ${needed}`).not.toContain(needed);
  });

  it('builds the workflow bundles at image build time into the directory the workers read, before dropping root', () => {
    const env = instructions(finalStage, 'ENV').join('\n');
    const dir = /WORKFLOW_BUNDLE_DIR=(\S+)/.exec(env)?.[1];
    expect(dir, 'the final stage must set WORKFLOW_BUNDLE_DIR').toBeDefined();
    expect(dir!.startsWith('/app/src')).toBe(false);
    const lines = finalStage.split('\n').map((l) => l.trim());
    const build = lines.findIndex((l) => /^RUN .*src\/workers\/bundle-cli\.ts/.test(l));
    expect(build, 'a RUN step must build the bundles (src/workers/bundle-cli.ts)').toBeGreaterThan(
      lines.findIndex((l) => l.startsWith('COPY src')),
    );
    expect(build).toBeLessThan(lines.findIndex((l) => l.startsWith('USER ')));
  });

  it('runs entry points with node --import tsx, and tsx is a production dependency', () => {
    expect(instructions(finalStage, 'ENTRYPOINT').at(-1)).toBe('ENTRYPOINT ["node", "--import", "tsx"]');
    expect(pkg.dependencies.tsx, 'tsx must be in dependencies: the image installs with --omit=dev').toBeDefined();
  });

  it('installs every package that the shipped source imports at run time, even with --omit=dev', () => {
    // npm ci --omit=dev installs exactly the lock entries not flagged `dev` (direct and transitive production deps).
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
    const missing: string[] = [];
    for (const file of sourceFiles(join(root, 'src'))) {
      for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        const entry = lock.packages[`node_modules/${name}`];
        if (entry === undefined || entry.dev === true) missing.push(`${relative(root, file)}: ${name}`);
      }
    }
    expect(missing, 'add these to "dependencies" (the image is installed with npm ci --omit=dev)').toEqual([]);
  });
});

/** Source files that go into the image: src/**\/*.ts except tests (see .dockerignore). */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Module specifiers a file loads at run time (type-only imports and exports are erased by tsx). */
function runtimeImports(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?\bfrom\s+['"]([^'"]+)['"]/gm))
    if (m[1] === undefined) specs.push(m[2]!);
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) specs.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs;
}
