#!/usr/bin/env node
/**
 * `prestart` / `pretest` hook: makes sure node_modules matches package-lock.json before anything runs.
 * Runs `npm ci` when node_modules is missing or the lock file changed since the last install (a hash of the lock file
 * is kept in node_modules/.notify-lock-hash). Plain Node, no dependencies: it must work before `npm ci` has run.
 *
 * A node_modules installed by hand (or updated by `npm install <pkg>`) is adopted without reinstalling when npm's own record of it
 * (node_modules/.package-lock.json) agrees with package-lock.json, so a working tree is never wiped needlessly.
 */
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockFile = join(root, 'package-lock.json');
const modules = join(root, 'node_modules');
const hashFile = join(modules, '.notify-lock-hash');

/** @param {string} message */
function fail(message) {
  console.error(`[ensure-deps] ${message}`);
  process.exit(1);
}

/** Whether npm's hidden lock file says node_modules holds exactly the versions package-lock.json pins. */
function installedMatchesLock() {
  const hidden = join(modules, '.package-lock.json');
  if (!existsSync(hidden)) return false;
  try {
    const want = JSON.parse(readFileSync(lockFile, 'utf8')).packages ?? {};
    const have = JSON.parse(readFileSync(hidden, 'utf8')).packages ?? {};
    for (const [path, entry] of Object.entries(want)) {
      if (path === '') continue;
      const installed = have[path];
      // Optional packages for other platforms are legitimately absent.
      if (installed === undefined) {
        if (entry.optional || entry.devOptional) continue;
        return false;
      }
      if (installed.version !== entry.version) return false;
    }
    return Object.keys(have).every((path) => path in want);
  } catch {
    return false;
  }
}

if (!existsSync(lockFile)) fail('package-lock.json is missing: run `npm install` once to create it, then commit it.');
const hash = createHash('sha256').update(readFileSync(lockFile)).digest('hex');
const recorded = existsSync(hashFile) ? readFileSync(hashFile, 'utf8').trim() : undefined;

if (existsSync(modules) && recorded === hash) process.exit(0);

// node_modules already matches the lock (e.g. after `npm install <pkg>`): adopt it instead of wiping it.
if (existsSync(modules) && installedMatchesLock()) {
  writeFileSync(hashFile, `${hash}\n`);
  process.exit(0);
}

const reason = !existsSync(modules) ? 'node_modules is missing' : 'package-lock.json changed since the last install';
console.log(`[ensure-deps] ${reason}: running npm ci`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
  cwd: root,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
if (result.error) fail(`could not run npm: ${result.error.message}`);
if (result.status !== 0) fail(`npm ci failed (exit code ${result.status}); fix the error above, then retry.`);
writeFileSync(hashFile, `${hash}\n`);
console.log('[ensure-deps] dependencies installed');
