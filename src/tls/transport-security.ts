import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { SASLOptions } from 'kafkajs';
import type { AppConfig } from '../config/config.js';
import { ConfigError } from '../config/config.js';

/** The configuration keys transport security is built from (a subset of {@link AppConfig}). */
export type TransportSecurityConfig = Pick<
  AppConfig,
  | 'KAFKA_SSL'
  | 'KAFKA_SSL_CA_FILE'
  | 'KAFKA_SSL_CERT_FILE'
  | 'KAFKA_SSL_KEY_FILE'
  | 'KAFKA_SSL_REJECT_UNAUTHORIZED'
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CA_FILE'
  | 'TEMPORAL_TLS_CERT_FILE'
  | 'TEMPORAL_TLS_KEY_FILE'
  | 'TEMPORAL_TLS_SERVER_NAME'
>;

/** TLS options for kafkajs (`ssl`), i.e. Node `tls.connect` options with PEM contents already read. */
export interface KafkaTlsOptions {
  ca?: string[];
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

/** What `createKafka` needs to reach a secured cluster; empty when Kafka is plaintext. */
export interface KafkaSecurity {
  ssl?: KafkaTlsOptions;
  sasl?: SASLOptions;
}

/** TLS for Temporal connections, shaped like the SDK's `TLSConfig` (client `Connection` and worker `NativeConnection`). */
export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

type Issue = string;

/** Reads a PEM file named by `variable`, checking that it exists and holds what `kind` says. */
function readPem(
  path: string | undefined,
  variable: string,
  kind: 'certificate' | 'key',
  issues: Issue[],
): string | undefined {
  if (path === undefined) return undefined;
  if (!existsSync(path)) {
    issues.push(`${variable}: file ${path} does not exist; point ${variable} at a PEM ${kind} file`);
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    issues.push(`${variable}: cannot read ${path} (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
  try {
    if (kind === 'certificate') {
      // Every certificate in a bundle must parse; X509Certificate reads only the first one.
      const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      if (blocks.length === 0) throw new Error('no "-----BEGIN CERTIFICATE-----" block found');
      for (const block of blocks) new X509Certificate(block);
    } else {
      createPrivateKey(text);
    }
  } catch (err) {
    issues.push(
      `${variable}: ${path} is not a valid PEM ${kind} (${err instanceof Error ? err.message : String(err)})`,
    );
    return undefined;
  }
  return text;
}

/** Checks that a certificate and its key are configured together and actually belong together. */
function checkPair(
  cert: string | undefined,
  key: string | undefined,
  certVar: string,
  keyVar: string,
  issues: Issue[],
): void {
  if (cert === undefined || key === undefined) return;
  try {
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
      issues.push(`${keyVar}: the private key does not match the certificate in ${certVar}`);
    }
  } catch (err) {
    issues.push(
      `${keyVar}: cannot check the key against ${certVar} (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

/**
 * Builds kafkajs `ssl`/`sasl` options from the configuration, reading and validating every file at start-up so that a
 * typo in a path fails fast with the variable's name instead of as a TLS handshake error later. Throws `ConfigError`.
 */
export function kafkaSecurityFromConfig(config: TransportSecurityConfig): KafkaSecurity {
  const issues: Issue[] = [];
  const fileVars = ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const;
  if (!config.KAFKA_SSL) {
    const stray = fileVars.filter((v) => config[v] !== undefined);
    if (stray.length > 0)
      issues.push(
        `${stray.join(', ')} set but KAFKA_SSL is false: set KAFKA_SSL=true to use TLS towards Kafka, or unset them`,
      );
  }
  if ((config.KAFKA_SSL_CERT_FILE === undefined) !== (config.KAFKA_SSL_KEY_FILE === undefined)) {
    issues.push('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: a client certificate needs its key (set both or neither)');
  }
  const ca = readPem(config.KAFKA_SSL_CA_FILE, 'KAFKA_SSL_CA_FILE', 'certificate', issues);
  const cert = readPem(config.KAFKA_SSL_CERT_FILE, 'KAFKA_SSL_CERT_FILE', 'certificate', issues);
  const key = readPem(config.KAFKA_SSL_KEY_FILE, 'KAFKA_SSL_KEY_FILE', 'key', issues);
  checkPair(cert, key, 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE', issues);

  let sasl: SASLOptions | undefined;
  const mechanism = config.KAFKA_SASL_MECHANISM;
  if (mechanism !== undefined) {
    if (config.KAFKA_SASL_USERNAME === undefined)
      issues.push(`KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM=${mechanism}`);
    if (config.KAFKA_SASL_PASSWORD === undefined)
      issues.push(`KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM=${mechanism}`);
    if (config.KAFKA_SASL_USERNAME !== undefined && config.KAFKA_SASL_PASSWORD !== undefined) {
      sasl = { mechanism, username: config.KAFKA_SASL_USERNAME, password: config.KAFKA_SASL_PASSWORD };
    }
  } else if (config.KAFKA_SASL_USERNAME !== undefined || config.KAFKA_SASL_PASSWORD !== undefined) {
    issues.push(
      'KAFKA_SASL_MECHANISM: required when KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set (plain, scram-sha-256 or scram-sha-512)',
    );
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const security: KafkaSecurity = {};
  if (config.KAFKA_SSL) {
    security.ssl = { rejectUnauthorized: config.KAFKA_SSL_REJECT_UNAUTHORIZED };
    if (ca !== undefined) security.ssl.ca = [ca];
    if (cert !== undefined && key !== undefined) Object.assign(security.ssl, { cert, key });
  }
  if (sasl !== undefined) security.sasl = sasl;
  return security;
}

/**
 * Builds the Temporal TLS settings (server CA, client certificate for mTLS, server name) from the configuration, or
 * `undefined` when TEMPORAL_TLS is off. Files are read and validated now; throws `ConfigError` naming the variables.
 */
export function temporalTlsFromConfig(config: TransportSecurityConfig): TemporalTls | undefined {
  const issues: Issue[] = [];
  const vars = [
    'TEMPORAL_TLS_CA_FILE',
    'TEMPORAL_TLS_CERT_FILE',
    'TEMPORAL_TLS_KEY_FILE',
    'TEMPORAL_TLS_SERVER_NAME',
  ] as const;
  if (!config.TEMPORAL_TLS) {
    const stray = vars.filter((v) => config[v] !== undefined);
    if (stray.length > 0)
      throw new ConfigError([
        `${stray.join(', ')} set but TEMPORAL_TLS is false: set TEMPORAL_TLS=true to use TLS towards Temporal, or unset them`,
      ]);
    return undefined;
  }
  if ((config.TEMPORAL_TLS_CERT_FILE === undefined) !== (config.TEMPORAL_TLS_KEY_FILE === undefined)) {
    issues.push('TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE: mTLS needs both the client certificate and its key');
  }
  const ca = readPem(config.TEMPORAL_TLS_CA_FILE, 'TEMPORAL_TLS_CA_FILE', 'certificate', issues);
  const cert = readPem(config.TEMPORAL_TLS_CERT_FILE, 'TEMPORAL_TLS_CERT_FILE', 'certificate', issues);
  const key = readPem(config.TEMPORAL_TLS_KEY_FILE, 'TEMPORAL_TLS_KEY_FILE', 'key', issues);
  checkPair(cert, key, 'TEMPORAL_TLS_CERT_FILE', 'TEMPORAL_TLS_KEY_FILE', issues);
  if (issues.length > 0) throw new ConfigError(issues);
  const tls: TemporalTls = {};
  if (config.TEMPORAL_TLS_SERVER_NAME !== undefined) tls.serverNameOverride = config.TEMPORAL_TLS_SERVER_NAME;
  if (ca !== undefined) tls.serverRootCACertificate = Buffer.from(ca);
  if (cert !== undefined && key !== undefined) tls.clientCertPair = { crt: Buffer.from(cert), key: Buffer.from(key) };
  return tls;
}
