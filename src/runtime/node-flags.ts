/**
 * Node flags the gateway runs with, wherever it is started: `npm run gateway`, the Docker image's default command,
 * docker compose, and the development tooling (supervisor, bench, chaos, scenario tests).
 *
 * `--max-semi-space-size=32` (MB; V8's default on 64-bit is 16): the gateway allocates a few short-lived KB per request
 * (parsed body, canonical JSON, sealed envelope, Kafka record) that die before the next scavenge; a larger young
 * generation means fewer scavenges for the same garbage. Measured with `npm run bench -- --only gateway` against the
 * defaults in the same run: more accepted requests per second at less CPU per request (see bench/README.md). The cost
 * is at most 3 × 16 MB more young-generation memory.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** The entry point these flags belong to, relative to the repository root. */
export const GATEWAY_ENTRY = 'src/api/main.ts';
