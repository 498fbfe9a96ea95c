/**
 * Compile-time checks that the plain wire types in `src/shared` (which workflow code uses, without zod) and the zod
 * schemas (which validate what crosses the wire) describe the same shapes. A field added to one and not the other
 * fails `npm run typecheck` here, naming the type. Nothing in this module exists at run time.
 */
import type { z } from 'zod';
import type { NotificationEnvelope } from '../kafka/envelope.js';
import type { Delivery, DeliveryState, NotificationRequest, NotificationState } from '../shared/notification.js';
import type { envelopeSchema, notificationRequestSchema, statusSchema } from './notification.js';

/** `true` when A and B are the same type (not merely mutually assignable through `any`). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Fails to compile unless its argument is `true`. */
type Assert<T extends true> = T;

type RequestBody = z.output<typeof notificationRequestSchema>;
type StatusBody = z.input<typeof statusSchema>;
type DeliveryStateBody = StatusBody['deliveries'][number];

/** The request schema and `NotificationRequest` have the same fields, with the same types apart from the deliveries. */
export type RequestFieldsMatch = Assert<Equals<keyof RequestBody, keyof NotificationRequest>>;
export type RequestTypesMatch = Assert<
  Equals<Omit<RequestBody, 'deliveries'>, Omit<NotificationRequest, 'deliveries'>>
>;
/** Every validated delivery (a union over the channels' schemas) is a `Delivery`. */
export type DeliveriesAreDeliveries = Assert<RequestBody['deliveries'][number] extends Delivery ? true : false>;

/** The Kafka envelope schema produces exactly `NotificationEnvelope` (up to the typed deliveries). */
export type EnvelopeFieldsMatch = Assert<Equals<keyof z.output<typeof envelopeSchema>, keyof NotificationEnvelope>>;
export type EnvelopeIsEnvelope = Assert<z.output<typeof envelopeSchema> extends NotificationEnvelope ? true : false>;

/**
 * The status answer is the workflow's `NotificationState` plus what the gateway adds (`links`, and `currentAttempt`
 * of a delivery in flight): same field names, and every state serialises through the schema.
 */
export type StatusFieldsMatch = Assert<Equals<Exclude<keyof StatusBody, 'links'>, keyof NotificationState>>;
export type StateSerialises = Assert<NotificationState extends Omit<StatusBody, 'links'> ? true : false>;
/** `resolvedTo` (the address resolved from a recipient profile) stays in the workflow's encrypted state: the gateway strips it. */
type PublicDeliveryState = Omit<DeliveryState, 'resolvedTo'>;
/** Fields the gateway adds to a delivery from the pending activity: the attempt in flight and what it waits for. */
type GatewayDeliveryFields = 'currentAttempt' | 'waitingFor';
export type DeliveryStateFieldsMatch = Assert<
  Equals<Exclude<keyof DeliveryStateBody, GatewayDeliveryFields>, keyof PublicDeliveryState>
>;
export type DeliveryStateSerialises = Assert<
  PublicDeliveryState extends Omit<DeliveryStateBody, GatewayDeliveryFields> ? true : false
>;
