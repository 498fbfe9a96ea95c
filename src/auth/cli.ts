import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { generatePayloadKeyEntry } from '../crypto/keyring.js';
import { assertKeyName, formatApiKeyEntry, generateApiKey, parseScopes, SCOPES } from './api-keys.js';

const USAGE = `Usage:
  npm run keys -- new <name> [--scopes send,read]   create an API key for client <name> (scopes: ${SCOPES.join(', ')})
  npm run keys -- hash <name> <key> [--scopes ...]  the API_KEYS entry of an existing key
  npm run keys -- payload-key <kid>                  create a PAYLOAD_KEYS entry (AES-256 key)
  npm run keys -- webhook-secret                     create a WEBHOOK_SIGNING_SECRET (whsec_<base64 of 32 bytes>)

The key is printed once and stored nowhere: only its SHA-256 goes into API_KEYS. To rotate, add a new key with the same
name (both work and own the same notifications), move the client to it, then remove the old entry.`;

/** `npm run keys`: creates API keys and payload keys and prints the configuration lines to paste. */
function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { scopes: { type: 'string', default: 'send,read' }, help: { type: 'boolean', default: false } },
  });
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined) {
    console.log(USAGE);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  try {
    if (command === 'new' || command === 'hash') {
      const [name, existing] = rest;
      if (name === undefined) throw new Error(`missing <name>\n${USAGE}`);
      if (command === 'hash' && existing === undefined) throw new Error(`missing <key>\n${USAGE}`);
      assertKeyName(name);
      const scopes = parseScopes(values.scopes ?? '', ',');
      const key = existing ?? generateApiKey();
      const entry = formatApiKeyEntry(name, scopes, key);
      if (command === 'new') {
        console.log(
          `API key for "${name}" (scopes: ${scopes.join(', ')}). Shown once; store it in your secret manager:\n\n  ${key}\n`,
        );
        console.log(`Add this entry to API_KEYS (comma-separated with the others):\n\n  ${entry}\n`);
        console.log(`Use it:  curl -H 'Authorization: Bearer ${key}' …`);
      } else {
        console.log(entry);
      }
      return 0;
    }
    if (command === 'payload-key') {
      const [kid] = rest;
      if (kid === undefined) throw new Error(`missing <kid>\n${USAGE}`);
      const entry = generatePayloadKeyEntry(kid);
      console.log(
        `Add to PAYLOAD_KEYS (keep the old keys until nothing encrypted with them is retained) and set PAYLOAD_KEY_ID=${kid}:\n\n  ${entry}`,
      );
      return 0;
    }
    if (command === 'webhook-secret') {
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      console.log(
        `Set WEBHOOK_SIGNING_SECRET on the webhook workers and give it to your receivers (they verify webhook-signature with it):\n\n  WEBHOOK_SIGNING_SECRET=${secret}`,
      );
      return 0;
    }
    throw new Error(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
