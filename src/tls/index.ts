/** Transport security: Kafka SSL/SASL and Temporal (m)TLS options built from the configuration, validated at start-up. */
export { kafkaSecurityFromConfig, temporalTlsFromConfig } from './transport-security.js';
export type { KafkaSecurity, KafkaTlsOptions, TemporalTls, TransportSecurityConfig } from './transport-security.js';
