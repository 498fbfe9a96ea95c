import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of a throw-away PKI made by {@link createTestCertificates}. */
export interface TestCertificates {
  dir: string;
  /** CA certificate (PEM): trust anchor for both sides. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Server key followed by its certificate: a Kafka `ssl.keystore.type=PEM` keystore. */
  serverKeystore: string;
  clientCert: string;
  clientKey: string;
  /** A certificate and key from a different CA (must be refused). */
  strangerCert: string;
  strangerKey: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(dir: string, name: string, cn: string, ca: string, ext: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/**
 * Generates a CA, a server certificate for 127.0.0.1/localhost, a client certificate (mTLS) and a certificate of
 * an unrelated CA, with the `openssl` CLI, into `dir`. For tests only: keys are unencrypted.
 */
export function createTestCertificates(dir: string): TestCertificates {
  mkdirSync(dir, { recursive: true });
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=notify-test-ca',
  ]);
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other-ca.key',
    '-out',
    'other-ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=other-ca',
  ]);
  issue(dir, 'server', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  issue(dir, 'client', 'notify-client', 'ca', 'extendedKeyUsage=clientAuth');
  issue(dir, 'stranger', 'stranger', 'other-ca', 'extendedKeyUsage=clientAuth');
  const p = (f: string) => join(dir, f);
  writeFileSync(
    p('server-keystore.pem'),
    readFileSync(p('server.key'), 'utf8') + readFileSync(p('server.pem'), 'utf8'),
  );
  return {
    dir,
    caCert: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    serverKeystore: p('server-keystore.pem'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    strangerCert: p('stranger.pem'),
    strangerKey: p('stranger.key'),
  };
}
