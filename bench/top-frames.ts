import { parseArgs } from 'node:util';
import { selfTimeByArea, topFrames } from './lib/cpu-profile.js';

/**
 * Prints the top self-time frames of a `.cpuprofile` (from `node --cpu-prof`, e.g. `npm run bench -- --only gateway
 * --profile`): `npx tsx bench/top-frames.ts <file.cpuprofile> [--top 25] [--skip-ms 8000] [--until-ms 90000]` (--skip-ms
 * leaves out start-up, --until-ms what came after the window of interest; both from the profile's start).
 */
function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '25' },
      'skip-ms': { type: 'string', default: '0' },
      'until-ms': { type: 'string', default: 'Infinity' },
    },
  });
  const file = positionals[0];
  if (file === undefined) {
    console.error('usage: npx tsx bench/top-frames.ts <file.cpuprofile> [--top N] [--skip-ms MS (leave out start-up)]');
    process.exit(2);
  }
  const skip = Number(values['skip-ms']);
  const until = Number(values['until-ms']);
  const { totalMs, idleMs, frames } = topFrames(file, Number(values.top), process.cwd(), skip, until);
  console.log(`busy ${totalMs.toFixed(0)} ms, idle ${idleMs.toFixed(0)} ms`);
  console.log('\n| self ms | share | frame |\n|---|---|---|');
  for (const f of frames) console.log(`| ${f.selfMs.toFixed(0)} | ${(f.share * 100).toFixed(1)} % | \`${f.frame}\` |`);
  console.log('\n| area | self ms | share |\n|---|---|---|');
  for (const a of selfTimeByArea(file, process.cwd(), skip, until).slice(0, 15))
    console.log(`| ${a.area} | ${a.selfMs.toFixed(0)} | ${(a.share * 100).toFixed(1)} % |`);
}

main();
