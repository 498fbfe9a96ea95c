import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serviceNodeFlags } from './child-process.js';
import { repoRoot } from '../../src/runtime/notify-home.js';
import { GATEWAY_ENTRY, GATEWAY_NODE_FLAGS } from '../../src/runtime/node-flags.js';

const read = (file: string) => readFileSync(join(repoRoot(), file), 'utf8');

describe('the gateway runs with its Node flags wherever it is started', () => {
  it('npm run gateway passes them to node before the entry', () => {
    const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.gateway;
    expect(script).toBe(`exec node ${GATEWAY_NODE_FLAGS.join(' ')} --import tsx ${GATEWAY_ENTRY}`);
  });

  it("the Docker image's default command (the gateway) and the compose gateway service pass them", () => {
    const cmd = JSON.stringify([...GATEWAY_NODE_FLAGS, GATEWAY_ENTRY]);
    expect(read('Dockerfile')).toContain(`CMD ${cmd.replaceAll(',', ', ')}`);
    expect(read('docker-compose.yml')).toContain(
      `command: [${[...GATEWAY_NODE_FLAGS, GATEWAY_ENTRY].map((a) => `'${a}'`).join(', ')}]`,
    );
  });

  it('the development tooling adds them for the gateway only, unless a baseline asks for none', () => {
    expect(serviceNodeFlags({ entry: GATEWAY_ENTRY })).toEqual(GATEWAY_NODE_FLAGS);
    expect(serviceNodeFlags({ entry: `../../${GATEWAY_ENTRY}` })).toEqual(GATEWAY_NODE_FLAGS);
    expect(serviceNodeFlags({ entry: GATEWAY_ENTRY, serviceFlags: false })).toEqual([]);
    expect(serviceNodeFlags({ entry: 'src/ingest/main.ts' })).toEqual([]);
  });
});
