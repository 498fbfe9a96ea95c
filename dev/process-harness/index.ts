/** Child processes and ports for the tooling (npm start, chaos, bench, scenario tests). Not shipped. */
export { literalPattern, spawnEntry } from './child-process.js';
export type { ChildExit, ChildHandle, EntrySpec } from './child-process.js';
export { freePort, freePorts, isPortFree } from './ports.js';
