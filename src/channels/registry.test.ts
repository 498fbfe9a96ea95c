import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { channelNames, channelRegistry, deliverySchema, getChannel } from './registry.js';
import { silentLogger } from '../../test/helpers/channel-test-helpers.js';

describe('channel registry', () => {
  it('derives names and lookups from the registry list', () => {
    expect(channelNames).toEqual(channelRegistry.map((c) => c.name));
    expect(new Set(channelNames).size).toBe(channelNames.length);
    for (const name of channelNames) expect(getChannel(name)?.name).toBe(name);
    expect(getChannel('carrier-pigeon')).toBeUndefined();
  });

  it('validates a delivery with the named channel’s schemas', () => {
    expect(
      deliverySchema.safeParse({ channel: 'email', to: 'ada@example.com', content: { subject: 'Hi', text: 'Hello' } })
        .success,
    ).toBe(true);
    const wrongShape = deliverySchema.safeParse({ channel: 'sms', to: 'ada@example.com', content: { body: 'x' } });
    expect(wrongShape.success).toBe(false);
    expect(wrongShape.error?.issues[0]?.path).toEqual(['to']);
    expect(
      deliverySchema.safeParse({
        channel: 'email',
        to: 'ada@example.com',
        content: { subject: 'Hi', text: 'x' },
        extra: 1,
      }).success,
    ).toBe(false);
  });

  it('names the known channels when the channel is unknown or missing', () => {
    const unknown = deliverySchema.safeParse({ channel: 'fax', to: 'x', content: {} });
    expect(unknown.error?.issues[0]?.message).toBe(`unknown channel "fax"; known channels: ${channelNames.join(', ')}`);
    const missing = deliverySchema.safeParse({ to: 'x', content: {} });
    expect(missing.error?.issues[0]?.message).toBe(`channel is required; known channels: ${channelNames.join(', ')}`);
  });

  it('builds every sender from the default configuration (no environment needed)', async () => {
    const config = loadConfig({});
    for (const channel of channelRegistry) {
      const settings = config.channels[channel.name]?.settings;
      expect(settings, channel.name).toBeDefined();
      const sender = getChannel(channel.name)?.createSender(settings ?? {}, { logger: silentLogger });
      expect(typeof sender?.send).toBe('function');
      await sender?.close();
    }
  });

  it('produces a JSON Schema for the OpenAPI document', async () => {
    const { toJSONSchema } = await import('zod');
    const schema = toJSONSchema(deliverySchema, { io: 'input', unrepresentable: 'any' }) as { oneOf?: unknown[] };
    expect(schema.oneOf).toHaveLength(channelRegistry.length);
  });
});
