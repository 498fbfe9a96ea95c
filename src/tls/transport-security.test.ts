import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.js';
import { createTestCertificates } from '../../test/helpers/test-certificates.js';
import type { TestCertificates } from '../../test/helpers/test-certificates.js';
import { kafkaSecurityFromConfig, temporalTlsFromConfig } from './transport-security.js';

let dir: string;
let certs: TestCertificates;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'notify-tls-'));
  certs = createTestCertificates(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ConfigError message thrown by `fn` (fails the test when nothing or something else is thrown). */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('Kafka transport security from configuration', () => {
  it('is plaintext without any setting', () => {
    expect(kafkaSecurityFromConfig(loadConfig({}))).toEqual({});
  });

  it('reads the CA, client certificate and key and keeps certificate verification on by default', () => {
    const security = kafkaSecurityFromConfig(
      loadConfig({
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: certs.caCert,
        KAFKA_SSL_CERT_FILE: certs.clientCert,
        KAFKA_SSL_KEY_FILE: certs.clientKey,
      }),
    );
    expect(security.ssl?.rejectUnauthorized).toBe(true);
    expect(security.ssl?.ca).toEqual([readFileSync(certs.caCert, 'utf8')]);
    expect(security.ssl?.cert).toBe(readFileSync(certs.clientCert, 'utf8'));
    expect(security.ssl?.key).toBe(readFileSync(certs.clientKey, 'utf8'));
    expect(security.sasl).toBeUndefined();
  });

  it('builds SASL options for each supported mechanism', () => {
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512']) {
      const security = kafkaSecurityFromConfig(
        loadConfig({
          KAFKA_SSL: 'yes',
          KAFKA_SASL_MECHANISM: mechanism,
          KAFKA_SASL_USERNAME: 'notify',
          KAFKA_SASL_PASSWORD: 'pw',
        }),
      );
      expect(security.sasl).toEqual({ mechanism, username: 'notify', password: 'pw' });
      expect(security.ssl).toEqual({ rejectUnauthorized: true });
    }
  });

  it('rejects an unknown SASL mechanism when the configuration is loaded', () => {
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(
      /KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512/,
    );
  });

  it('names the missing SASL credentials', () => {
    const message = configError(() => kafkaSecurityFromConfig(loadConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-512' })));
    expect(message).toContain('KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM=scram-sha-512');
    expect(message).toContain('KAFKA_SASL_PASSWORD: required');
  });

  it('names a certificate file that does not exist', () => {
    const missing = join(dir, 'nope.pem');
    const message = configError(() =>
      kafkaSecurityFromConfig(loadConfig({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: missing })),
    );
    expect(message).toContain(`KAFKA_SSL_CA_FILE: file ${missing} does not exist`);
  });

  it('refuses a file that is not a PEM certificate or key', () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'hello\n');
    const message = configError(() =>
      kafkaSecurityFromConfig(
        loadConfig({
          KAFKA_SSL: 'true',
          KAFKA_SSL_CA_FILE: junk,
          KAFKA_SSL_CERT_FILE: certs.clientCert,
          KAFKA_SSL_KEY_FILE: junk,
        }),
      ),
    );
    expect(message).toContain('KAFKA_SSL_CA_FILE');
    expect(message).toMatch(/not a valid PEM certificate/);
    expect(message).toMatch(/KAFKA_SSL_KEY_FILE: .* is not a valid PEM key/);
  });

  it('refuses a key that does not belong to the certificate', () => {
    const message = configError(() =>
      kafkaSecurityFromConfig(
        loadConfig({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: certs.clientCert, KAFKA_SSL_KEY_FILE: certs.strangerKey }),
      ),
    );
    expect(message).toContain(
      'KAFKA_SSL_KEY_FILE: the private key does not match the certificate in KAFKA_SSL_CERT_FILE',
    );
  });

  it('refuses a certificate without its key and certificate files while TLS is off', () => {
    expect(
      configError(() =>
        kafkaSecurityFromConfig(loadConfig({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: certs.clientCert })),
      ),
    ).toContain('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE');
    expect(configError(() => kafkaSecurityFromConfig(loadConfig({ KAFKA_SSL_CA_FILE: certs.caCert })))).toContain(
      'set KAFKA_SSL=true',
    );
  });

  it('turns certificate verification off only when asked to', () => {
    expect(
      kafkaSecurityFromConfig(loadConfig({ KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' })).ssl
        ?.rejectUnauthorized,
    ).toBe(false);
    expect(() => loadConfig({ KAFKA_SSL_REJECT_UNAUTHORIZED: 'nah' })).toThrow(
      /KAFKA_SSL_REJECT_UNAUTHORIZED: must be true or false/,
    );
  });
});

describe('Temporal TLS from configuration', () => {
  it('is off without TEMPORAL_TLS', () => {
    expect(temporalTlsFromConfig(loadConfig({}))).toBeUndefined();
  });

  it('reads the server CA, the mTLS client pair and the server name', () => {
    const tls = temporalTlsFromConfig(
      loadConfig({
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_CA_FILE: certs.caCert,
        TEMPORAL_TLS_CERT_FILE: certs.clientCert,
        TEMPORAL_TLS_KEY_FILE: certs.clientKey,
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      }),
    );
    expect(tls?.serverNameOverride).toBe('temporal.internal');
    expect(tls?.serverRootCACertificate?.toString('utf8')).toBe(readFileSync(certs.caCert, 'utf8'));
    expect(tls?.clientCertPair?.crt.toString('utf8')).toBe(readFileSync(certs.clientCert, 'utf8'));
    expect(tls?.clientCertPair?.key.toString('utf8')).toBe(readFileSync(certs.clientKey, 'utf8'));
  });

  it('uses system trust when TLS is on without files', () => {
    expect(temporalTlsFromConfig(loadConfig({ TEMPORAL_TLS: '1' }))).toEqual({});
  });

  it('names each problem: missing key, unreadable CA, and settings given while TLS is off', () => {
    const message = configError(() =>
      temporalTlsFromConfig(
        loadConfig({
          TEMPORAL_TLS: 'true',
          TEMPORAL_TLS_CA_FILE: join(dir, 'missing-ca.pem'),
          TEMPORAL_TLS_CERT_FILE: certs.clientCert,
        }),
      ),
    );
    expect(message).toContain('TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE');
    expect(message).toContain('TEMPORAL_TLS_CA_FILE: file');
    expect(configError(() => temporalTlsFromConfig(loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'x' })))).toContain(
      'set TEMPORAL_TLS=true',
    );
  });
});
