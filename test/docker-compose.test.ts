/**
 * Docker cannot run where the tests run, so this file keeps docker-compose.yml, the Dockerfile and the Temporal set-up
 * script honest against the code: variable names the config reads, one worker service per registered channel, entry
 * files that exist, search attributes the workflow sets, and an image that holds what the entry points import.
 */
import { spawn } from 'node:child_process';
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
import { ensureTemporalCli, resolveInfraPaths } from '../dev/infra/index.js';
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
    return Object.fromEntries(env.map((entry) => {
      const eq = entry.indexOf('=');
      return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
    }));
  }
  // Compose accepts numbers and booleans as values; null means "take it from the host environment".
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '']));
}

function commandOf(service: ComposeService): string[] {
  const c = service.command ?? [];
  return Array.isArray(c) ? c : c.split(/\s+/).filter(Boolean);
}

/** `${VAR:-default}` / `${VAR-default}` → default; `${VAR}` without a default is reported (compose would leave it empty). */
function interpolateDefaults(value: string, where: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_m, name: string, def: string | undefined) => {
    if (def === undefined) throw new Error(`${where}: \${${name}} has no default; write \${${name}:-<default>} so \`docker compose up\` works without an .env file`);
    return def;
  });
}

function dependsOnNames(service: ComposeService): string[] {
  const d = service.depends_on ?? [];
  return Array.isArray(d) ? d : Object.keys(d);
}

describe('docker-compose.yml', () => {
  it('runs the notify services from the image built by the Dockerfile', () => {
    expect(notifyServices.map(([name]) => name)).toEqual(expect.arrayContaining(['gateway', 'ingest', 'workflow-worker']));
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
      const env = Object.fromEntries(Object.entries(envOf(service)).map(([k, v]) => [k, interpolateDefaults(v, `${name}.${k}`)]));
      expect(() => loadConfig(env), `service ${name}`).not.toThrow();
      const config = loadConfig(env);
      expect(config.NOTIFY_ENV, `service ${name}`).toBe('production');
      expect(config.KAFKA_BROKERS, `service ${name} must point at the kafka service`).toEqual(['kafka:9092']);
      expect(config.TEMPORAL_ADDRESS, `service ${name} must point at the temporal service`).toBe('temporal:7233');
    }
  });

  it('ships no development webhook secret, and each production channel worker refuses the development defaults by name', () => {
    expect(read('docker-compose.yml')).not.toContain(DEV_WEBHOOK_SIGNING_SECRET);
    const expected: Record<string, string> = { email: 'EMAIL_HOST', sms: 'SMS_AUTH_TOKEN', slack: 'SLACK_BOT_TOKEN', webhook: 'WEBHOOK_SIGNING_SECRET' };
    for (const channel of channelNames) {
      const service = compose.services[`worker-${channel}`];
      expect(service, `worker-${channel}`).toBeDefined();
      const env = Object.fromEntries(Object.entries(envOf(service!)).map(([k, v]) => [k, interpolateDefaults(v, `worker-${channel}.${k}`)]));
      const config = loadConfig(env);
      expect(config.NOTIFY_ENV).toBe('production');
      expect(() => assertProductionChannelSettings(config, [channel]), `worker-${channel}`).toThrow(new RegExp(`${expected[channel] ?? '(unknown channel)'}: `));
      // Disabling the channel explicitly is the other way out.
      expect(() => assertProductionChannelSettings(loadConfig({ ...env, DISABLED_CHANNELS: channel }), [channel])).not.toThrow();
    }
  });

  it('has exactly one worker service per registered channel, serving only that channel', () => {
    expect(channelNames.length).toBeGreaterThan(0);
    for (const channel of channelNames) {
      const serving = notifyServices.filter(([, s]) => {
        const cmd = commandOf(s);
        const i = cmd.indexOf('--channels');
        return i >= 0 && (cmd[i + 1] ?? '').split(',').map((c) => c.trim()).includes(channel);
      });
      expect(serving.map(([n]) => n), `channel ${channel}`).toHaveLength(1);
      const [name, service] = serving[0]!;
      const cmd = commandOf(service);
      expect(cmd[cmd.indexOf('--channels') + 1], `${name} should serve ${channel} alone so it scales on its own`).toBe(channel);
      expect(cmd, `${name} must not also run workflows`).not.toContain('--workflows');
      expect(service.deploy?.replicas, `${name} replicas should be settable`).toBe(`\${${channel.toUpperCase()}_WORKER_REPLICAS:-2}`);
    }
  });

  it('names no channel in a --channels flag that the registry does not know', () => {
    const known = new Set<string>(channelNames);
    for (const [name, service] of notifyServices) {
      const cmd = commandOf(service);
      const i = cmd.indexOf('--channels');
      if (i < 0) continue;
      for (const c of (cmd[i + 1] ?? '').split(',')) expect(known.has(c.trim()), `${name} names channel "${c}"`).toBe(true);
    }
  });

  it('has a workflow worker, a gateway and a scalable ingest service', () => {
    const byEntry = (entry: string) => notifyServices.filter(([, s]) => commandOf(s)[0] === entry);
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
      const entry = commandOf(service)[0];
      // The image ships src/ only; development tooling (dev/) runs only where the checkout's dev/ is mounted.
      const mountsDev = (service.volumes ?? []).some((v) => (typeof v === 'string' ? v.split(':')[0] : v.source) === './dev');
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
      if (deps !== undefined && !Array.isArray(deps) && deps.sinks !== undefined) expect(deps.sinks.required, `${name} depends_on sinks`).toBe(false);
    }
  });

  it('depends only on services it defines, and mounts only files that exist', () => {
    const defined = new Set(Object.keys(compose.services));
    for (const [name, service] of services) {
      for (const dep of dependsOnNames(service)) expect(defined.has(dep), `${name} depends on undefined service ${dep}`).toBe(true);
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
      expect(deps && !Array.isArray(deps) ? deps['temporal-setup']?.condition : undefined, name).toBe('service_completed_successfully');
    }
  });

  it('configures Kafka without topic auto-creation and with replication factor 1 for internal topics', () => {
    const env = envOf(compose.services.kafka!);
    expect(compose.services.kafka!.image).toBe('apache/kafka:4.1.1');
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    for (const key of ['KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR', 'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR', 'KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR']) {
      expect(env[key], key).toBe('1');
    }
  });
});

/** The script the temporal-setup service runs, found through its entrypoint and volume mount. */
function temporalSetupScript(): string {
  const setup = compose.services['temporal-setup'];
  if (setup === undefined) throw new Error('docker-compose.yml has no temporal-setup service');
  const entrypoint = Array.isArray(setup.entrypoint) ? setup.entrypoint : (setup.entrypoint ?? '').split(/\s+/);
  const target = entrypoint.find((part) => part.endsWith('.sh'));
  const mount = (setup.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':') : [v.source ?? '', v.target ?? ''])).find(([, t]) => t === target);
  if (target === undefined || mount === undefined) throw new Error(`temporal-setup runs ${String(target)}, which is not mounted from the repository`);
  return relative(root, join(root, mount[0]!));
}

describe('Temporal set-up (temporal-setup service)', () => {
  it('registers exactly the search attributes of SEARCH_ATTRIBUTES, each with its type', () => {
    const script = read(temporalSetupScript());
    const registered = [...script.matchAll(/^ensure_search_attribute\s+(\S+)\s+(\S+)\s*$/gm)].map((m) => `${m[1]}=${m[2]}`).sort();
    const expected = Object.values(SEARCH_ATTRIBUTES).map((a) => `${a.name}=${a.type}`).sort();
    expect(registered).toEqual(expected);
    expect(script).toContain('temporal operator search-attribute create');
    expect(script).toContain('temporal operator namespace create');
  });

  it('uses the namespace the notify services use', () => {
    const setupEnv = envOf(compose.services['temporal-setup']!);
    const namespaces = new Set(notifyServices.map(([, s]) => envOf(s).TEMPORAL_NAMESPACE));
    expect([...namespaces]).toEqual([setupEnv.NOTIFY_NAMESPACE]);
    expect(envOf(compose.services['temporal-ui']!).TEMPORAL_DEFAULT_NAMESPACE).toBe(setupEnv.NOTIFY_NAMESPACE);
  });

  it('keeps closed workflows longer than Kafka keeps records, with the retention the services expect', () => {
    const setupEnv = envOf(compose.services['temporal-setup']!);
    const retention = /^(\d+)h$/.exec(interpolateDefaults(setupEnv.NOTIFY_NAMESPACE_RETENTION ?? '', 'temporal-setup.NOTIFY_NAMESPACE_RETENTION'));
    expect(retention, 'NOTIFY_NAMESPACE_RETENTION should be a number of hours like 192h').not.toBeNull();
    const hours = Number(retention![1]);
    for (const [name, service] of notifyServices) {
      const env = Object.fromEntries(Object.entries(envOf(service)).map(([k, v]) => [k, interpolateDefaults(v, `${name}.${k}`)]));
      const config = loadConfig(env);
      expect(config.TEMPORAL_RETENTION_HOURS, `${name}: TEMPORAL_RETENTION_HOURS`).toBe(hours);
      // REJECT_DUPLICATE only dedupes a redelivered record while the closed run is retained.
      expect(hours * 3_600_000, `${name}: namespace retention vs KAFKA_TOPIC_RETENTION_MS`).toBeGreaterThan(config.KAFKA_TOPIC_RETENTION_MS);
    }
  });

  it('registers the namespace and typed search attributes on a real Temporal server, and a second run changes nothing', async () => {
    const which = await run('sh', ['-c', 'command -v jq'], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    if (which.code !== 0) throw new Error('the set-up script needs jq (present in temporalio/admin-tools); install it here with `apt-get install -y jq`');
    const config = loadConfig();
    const cli = await ensureTemporalCli({ cliPath: config.TEMPORAL_CLI_PATH, binDir: resolveInfraPaths(config.NOTIFY_HOME).binDir, log: (line) => console.log(`[temporal-cli] ${line}`) });
    const address = inject('temporalAddress');
    const namespace = `compose-setup-${randomBytes(4).toString('hex')}`;
    const env = {
      PATH: cli.includes('/') ? `${dirname(cli)}:${process.env.PATH ?? ''}` : (process.env.PATH ?? ''),
      HOME: process.env.HOME ?? '/tmp',
      TEMPORAL_ADDRESS: address,
      NOTIFY_NAMESPACE: namespace,
    };
    const script = join(root, temporalSetupScript());
    const connection = await Connection.connect({ address });
    try {
      const first = await run('bash', [script], env);
      expect(first.code, first.output).toBe(0);
      const second = await run('bash', [script], env);
      expect(second.code, second.output).toBe(0);
      expect(second.output).toContain(`namespace ${namespace} already registered`);
      expect(second.output).not.toContain('creating search attribute');

      const described = await connection.workflowService.describeNamespace({ namespace });
      expect(described.namespaceInfo?.name).toBe(namespace);
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      const typeNames: Record<string, number> = { Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7, Text: 1 };
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
  const instructions = (stage: string, op: string) => stage.split('\n').filter((l) => l.trim().toUpperCase().startsWith(`${op} `)).map((l) => l.trim());
  const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

  it('builds on node:20-bookworm-slim and runs as a non-root user', () => {
    expect(stages.every((s) => s.startsWith('node:20-bookworm-slim'))).toBe(true);
    const user = instructions(finalStage, 'USER').at(-1);
    expect(user, 'the final stage needs a USER').toBeDefined();
    expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/);
  });

  it('copies package.json, package-lock.json and src into the image and installs with npm ci from the lock file', () => {
    const copied = stages.flatMap((s) => instructions(s, 'COPY')).filter((l) => !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const needed of ['package.json', 'package-lock.json', 'src', 'src/']) expect(ignored, `.dockerignore must not exclude ${needed}`).not.toContain(needed);
  });

  it('builds the workflow bundles at image build time into the directory the workers read, before dropping root', () => {
    const env = instructions(finalStage, 'ENV').join('\n');
    const dir = /WORKFLOW_BUNDLE_DIR=(\S+)/.exec(env)?.[1];
    expect(dir, 'the final stage must set WORKFLOW_BUNDLE_DIR').toBeDefined();
    expect(dir!.startsWith('/app/src')).toBe(false);
    const lines = finalStage.split('\n').map((l) => l.trim());
    const build = lines.findIndex((l) => /^RUN .*src\/workers\/bundle-cli\.ts/.test(l));
    expect(build, 'a RUN step must build the bundles (src/workers/bundle-cli.ts)').toBeGreaterThan(lines.findIndex((l) => l.startsWith('COPY src')));
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
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?\bfrom\s+['"]([^'"]+)['"]/gm)) if (m[1] === undefined) specs.push(m[2]!);
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) specs.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs;
}

/** Runs a command to completion, collecting stdout and stderr together. */
function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}
