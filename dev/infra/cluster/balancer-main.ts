/**
 * The cluster's Temporal frontend load balancer as its own process (started detached by the cluster topology):
 * `tsx dev/infra/cluster/balancer-main.ts --listen 127.0.0.1:22750 --backend 127.0.0.2:22730 --backend … [--tag <dir>]`.
 * `--tag` only marks the process for its pid file. Stops on SIGTERM/SIGINT.
 */
import { parseEndpoint, startTcpBalancer } from './tcp-balancer.js';

async function main(argv: string[]): Promise<void> {
  let listen: string | undefined;
  const backends: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--listen' && value !== undefined) listen = value;
    else if (flag === '--backend' && value !== undefined) backends.push(value);
    else if (flag === '--tag' && value !== undefined) {
      // marker only
    } else throw new Error(`unknown argument ${String(flag)}`);
    i++;
  }
  if (listen === undefined || backends.length === 0)
    throw new Error('usage: balancer-main --listen host:port --backend host:port [--backend …]');
  const balancer = await startTcpBalancer(parseEndpoint(listen), backends.map(parseEndpoint));
  console.log(`balancer listening on ${listen} → ${backends.join(', ')}`);
  const stop = () => {
    void balancer.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`balancer failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
