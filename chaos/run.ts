import { channelNames } from '../src/channels/registry.js';
import { runChaos } from './chaos.js';
import { CHAOS_USAGE, parseChaosArgs } from './options.js';
import { SUPPORTED_CHANNELS } from './workload.js';

/**
 * `npm run chaos`: a Jepsen-style fault-injection run of the whole pipeline with a delivery ledger. Exits 1 when an
 * acknowledged notification was lost (or the run failed), 2 on bad flags, 130 when interrupted.
 */
async function main(): Promise<number> {
  let options;
  try {
    options = parseChaosArgs(
      process.argv.slice(2),
      SUPPORTED_CHANNELS.filter((c) => channelNames.includes(c)),
    );
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${CHAOS_USAGE}`);
    return 2;
  }
  if (options === undefined) {
    console.log(CHAOS_USAGE);
    return 0;
  }
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      console.error(
        `second ${signal}: exiting now (private Kafka/Temporal/components may be left running; the next run cleans them up)`,
      );
      process.exit(130);
    }
    console.error(`${signal}: stopping the chaos run and everything it started…`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runChaos(options, { signal: abort.signal });
    if (result.ledger.lost > 0) {
      console.error(
        `FAILED: ${result.ledger.lost} acknowledged notification(s) were never delivered; see ${result.ledgerFile}`,
      );
      return 1;
    }
    if (result.ledger.drain.timedOut)
      console.error('note: the drain timed out, but every acknowledged notification was delivered');
    return 0;
  } catch (err) {
    if (abort.signal.aborted) return 130;
    console.error(`chaos run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
