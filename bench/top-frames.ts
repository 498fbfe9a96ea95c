import { parseArgs } from 'node:util';
import { selfTimeByArea, topFrames } from './lib/cpu-profile.js';

/**
 * Prints the top self-time frames of a `.cpuprofile` (from `node --cpu-prof`, e.g. `npm run bench -- --only gateway
 * --profile`): `npx tsx bench/top-frames.ts <file.cpuprofile> [--top 25]`.
 */
function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const file = positionals[0];
  if (file === undefined) {
    console.error('usage: npx tsx bench/top-frames.ts <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  const { totalMs, idleMs, frames } = topFrames(file, Number(values.top));
  console.log(`busy ${totalMs.toFixed(0)} ms, idle ${idleMs.toFixed(0)} ms`);
  console.log('\n| self ms | share | frame |\n|---|---|---|');
  for (const f of frames) console.log(`| ${f.selfMs.toFixed(0)} | ${(f.share * 100).toFixed(1)} % | \`${f.frame}\` |`);
  console.log('\n| area | self ms | share |\n|---|---|---|');
  for (const a of selfTimeByArea(file).slice(0, 15)) console.log(`| ${a.area} | ${a.selfMs.toFixed(0)} | ${(a.share * 100).toFixed(1)} % |`);
}

main();
