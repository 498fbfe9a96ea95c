import { CLUSTER_PORT_BASE_MAX, clusterPortBaseProblem } from '../dev/infra/cluster/index.js';
import { isPortFree } from '../dev/process-harness/index.js';

/** Ports of one private chaos run, all derived from a base so two runs (e.g. the test and `npm run chaos`) never meet. */
export interface ClusterPorts {
  kafka: number;
  kafkaController: number;
  temporal: number;
  temporalUi: number;
  gateway: number;
  sinksHttp: number;
  sinksSmtp: number;
  postgres: number;
}

/** Ports for `portBase` (see `--port-base`). */
export function clusterPorts(portBase: number): ClusterPorts {
  return {
    kafka: portBase + 9092,
    kafkaController: portBase + 9093,
    temporal: portBase + 7233,
    temporalUi: portBase + 8233,
    gateway: portBase + 3000,
    sinksHttp: portBase + 4010,
    sinksSmtp: portBase + 2525,
    postgres: portBase + 5433,
  };
}

/** Offset of the cluster topology's port block (its layout spans 52 ports: Kafka, PostgreSQL, Temporal, balancer). */
export const CLUSTER_LAYOUT_OFFSET = 5_000;
const CLUSTER_LAYOUT_SPAN = 52;

/**
 * Ports fetch (undici) refuses to connect to, at or above 1024 (the WHATWG Fetch "bad port" list): a gateway or sink
 * there would be unreachable from the load generator with a confusing "bad port" error.
 */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** Every port a run with `portBase` listens on, named (pure). */
export function chaosPorts(portBase: number, topology: 'embedded' | 'cluster'): Array<{ port: number; what: string }> {
  const named: Record<string, number> = { ...clusterPorts(portBase) };
  const ports = Object.entries(named).map(([what, port]) => ({ port, what }));
  if (topology === 'cluster')
    for (let i = 0; i < CLUSTER_LAYOUT_SPAN; i++)
      ports.push({ port: portBase + CLUSTER_LAYOUT_OFFSET + i, what: `cluster block +${i}` });
  return ports;
}

/** Why `portBase` cannot be used (a derived port above 65535 or one fetch refuses), or undefined when it can (pure). */
export function portBaseProblem(portBase: number, topology: 'embedded' | 'cluster'): string | undefined {
  if (!Number.isInteger(portBase) || portBase < 1024) return 'expected an integer ≥ 1024';
  const ports = chaosPorts(portBase, topology);
  const high = ports.filter((p) => p.port > 65_535);
  if (high.length > 0)
    return `derived ports exceed 65535 (${high.map((p) => `${p.what} ${p.port}`).join(', ')}); use a base of at most ${65_535 - Math.max(...ports.map((p) => p.port - portBase))}`;
  const cluster = topology === 'cluster' ? clusterPortBaseProblem(portBase + CLUSTER_LAYOUT_OFFSET) : undefined;
  if (cluster !== undefined)
    return `${cluster} (the cluster block starts at the port base + ${CLUSTER_LAYOUT_OFFSET}, so use a port base of at most ${CLUSTER_PORT_BASE_MAX - CLUSTER_LAYOUT_OFFSET})`;
  const blocked = ports.filter((p) => FETCH_BLOCKED_PORTS.has(p.port));
  if (blocked.length > 0)
    return `derived port ${blocked.map((p) => `${p.port} (${p.what})`).join(', ')} is one fetch refuses to connect to ("bad port"); pick another base`;
  return undefined;
}

/**
 * A port base (between `from` and `to`, random start) whose every derived port is usable and free right now, so two
 * runs on one machine (two worktrees' test suites) do not pick the same ports.
 */
export async function freeChaosPortBase(topology: 'embedded' | 'cluster', from = 21_000, to = 50_000): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = from + Math.floor(Math.random() * (to - from));
    if (portBaseProblem(base, topology) !== undefined) continue;
    let free = true;
    for (const { port } of chaosPorts(base, topology)) if (!(await isPortFree(port))) free = false;
    if (free) return base;
  }
  throw new Error(`no port base between ${from} and ${to} with all its chaos ports free`);
}
