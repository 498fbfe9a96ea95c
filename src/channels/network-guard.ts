import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { PermanentDeliveryError } from './errors.js';

/**
 * Keeps caller-chosen URLs (webhook receivers, Slack incoming webhooks) away from internal targets (SSRF): loopback,
 * link-local (169.254.169.254 cloud metadata), private, unique-local, shared, multicast, reserved and unspecified
 * addresses, IPv4 and IPv6 (IPv4-mapped IPv6 counts as its IPv4 address). The check runs on the addresses DNS
 * returned, inside the connection's own lookup, so the connection goes to exactly the address that was checked (no
 * DNS-rebinding window). Networks listed in the channel's `<CHANNEL>_ALLOWED_NETWORKS` setting are let through (the
 * dev sinks need loopback).
 */

/** Special-purpose ranges refused by default, with the name used in error messages. */
const INTERNAL_RANGES: ReadonlyArray<{ cidr: string; kind: string }> = [
  { cidr: '0.0.0.0/8', kind: 'unspecified ("this network")' },
  { cidr: '10.0.0.0/8', kind: 'private' },
  { cidr: '100.64.0.0/10', kind: 'shared (carrier-grade NAT)' },
  { cidr: '127.0.0.0/8', kind: 'loopback' },
  { cidr: '169.254.0.0/16', kind: 'link-local' },
  { cidr: '172.16.0.0/12', kind: 'private' },
  { cidr: '192.0.0.0/24', kind: 'IETF protocol assignments' },
  { cidr: '192.168.0.0/16', kind: 'private' },
  { cidr: '198.18.0.0/15', kind: 'benchmarking' },
  { cidr: '224.0.0.0/4', kind: 'multicast' },
  { cidr: '240.0.0.0/4', kind: 'reserved' },
  { cidr: '::/128', kind: 'unspecified' },
  { cidr: '::1/128', kind: 'loopback' },
  { cidr: '64:ff9b:1::/48', kind: 'local-use NAT64' },
  { cidr: '100::/64', kind: 'discard-only' },
  { cidr: 'fc00::/7', kind: 'unique-local' },
  { cidr: 'fe80::/10', kind: 'link-local' },
  { cidr: 'fec0::/10', kind: 'site-local (deprecated)' },
  { cidr: 'ff00::/8', kind: 'multicast' },
];

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 4 ? 'ipv4' : 'ipv6';
}

function subnetList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, prefix] = splitCidr(cidr);
    list.addSubnet(net, prefix, familyOf(net));
  }
  return list;
}

const internal = INTERNAL_RANGES.map((r) => ({ ...r, list: subnetList([r.cidr]) }));

/** `a.b.c.d/n`, `v6::/n` or a bare address (a /32 or /128); throws with the accepted forms otherwise. */
function splitCidr(cidr: string): [string, number] {
  const [net = '', prefixText] = cidr.trim().split('/');
  const family = isIP(net);
  if (family === 0) throw new Error(`${cidr} is not an IP network; write it like 10.0.0.0/8, 127.0.0.1 or fd00::/8`);
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (prefixText !== undefined && !/^\d+$/.test(prefixText))
  ) {
    throw new Error(`${cidr}: the prefix length must be 0-${max}`);
  }
  return [net, prefix];
}

/** Parses an `<CHANNEL>_ALLOWED_NETWORKS` list (validated at start-up); throws naming the entry at fault. */
export function parseNetworkList(entries: readonly string[]): readonly string[] {
  for (const entry of entries) splitCidr(entry);
  return entries;
}

/** The eight 16-bit groups of an IPv6 address (`::` and an embedded dotted IPv4 tail expanded). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0] ?? '';
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, also in hex form) stands for, else the input. */
export function unmapIpv4(address: string): string {
  if (isIP(address) !== 6) return address;
  const g = ipv6Groups(address);
  if (g.length !== 8 || g.slice(0, 5).some((x) => x !== 0) || g[5] !== 0xffff) return address;
  const hi = g[6] ?? 0;
  const lo = g[7] ?? 0;
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The kind of special-purpose range `address` lies in ("loopback", "link-local", …), or undefined for a public one. */
export function internalRangeOf(address: string): string | undefined {
  const plain = unmapIpv4(address);
  const family = familyOf(plain);
  return internal.find((r) => r.list.check(plain, family))?.kind;
}

/** Decides whether a resolved address may be connected to. */
export class NetworkPolicy {
  private readonly allowed: BlockList;

  /**
   * @param allowedNetworks internal networks that may still be reached (validated CIDRs or addresses)
   * @param setting the environment variable that lists them, named in refusals (e.g. `WEBHOOK_ALLOWED_NETWORKS`)
   */
  constructor(
    allowedNetworks: readonly string[],
    private readonly setting: string,
  ) {
    this.allowed = subnetList(allowedNetworks);
  }

  /** Undefined when `address` may be reached, else why not (for the error message). */
  refusal(address: string): string | undefined {
    const kind = internalRangeOf(address);
    if (kind === undefined) return undefined;
    const plain = unmapIpv4(address);
    if (this.allowed.check(plain, familyOf(plain)) || this.allowed.check(address, familyOf(address))) return undefined;
    return `${address} is a ${kind} address`;
  }

  /** Throws a permanent delivery error when `address` may not be reached. */
  assertAllowed(host: string, address: string, what: string): void {
    const why = this.refusal(address);
    if (why === undefined) return;
    const resolved = host === address ? '' : ` (${host} resolves to it)`;
    throw new PermanentDeliveryError(
      `${what}: refused to connect: ${why}${resolved}; internal targets need an explicit ${this.setting} entry (e.g. 127.0.0.0/8 for a receiver on this machine)`,
    );
  }

  /**
   * Checks a URL whose host is an IP literal (connected to without any DNS lookup, so `lookup` never sees it); names
   * are left to `lookup`. Throws a permanent delivery error when the literal may not be reached.
   */
  assertUrlAllowed(url: URL, what: string): void {
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) !== 0) this.assertAllowed(literal, literal, what);
  }

  /**
   * A `lookup` for `http.request`: resolves like `dns.lookup`, then refuses the connection when any returned address is
   * internal and not allowed (a name with one internal address is treated as internal), with a PermanentDeliveryError.
   */
  lookup(what: string, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
    return (hostname, options, callback) => {
      resolve(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 4);
        try {
          for (const a of addresses) this.assertAllowed(hostname, a.address, what);
        } catch (refused) {
          return callback(refused as NodeJS.ErrnoException, '', 4);
        }
        if (options.all === true)
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        const first = addresses[0];
        if (first === undefined)
          return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 4);
        return callback(null, first.address, first.family);
      });
    };
  }
}
