import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../test/helpers/channel-test-helpers.js';
import type { ChannelSender } from '../channels/types.js';
import { TEMPLATE_RENDER_FAILED, TEMPLATE_UNAVAILABLE } from '../shared/notification.js';
import type { DeliverInput } from '../shared/notification.js';
import { loadTemplateStore } from '../templates/index.js';
import type { TemplateStore } from '../templates/index.js';
import { createActivities } from './create-activities.js';

/** The delivery activity with a template reference as content: renders it, or fails the right way. */
let store: TemplateStore;
beforeAll(async () => {
  store = await loadTemplateStore({ dir: 'templates', defaultLocale: 'en' });
});

const sent: Array<{ to: unknown; content: unknown }> = [];
const sender: ChannelSender<unknown, unknown> = {
  send: (message) => {
    sent.push(message);
    return Promise.resolve({ providerMessageId: `p${sent.length}` });
  },
  close: () => Promise.resolve(),
};
const data = { user: { name: 'Ada' }, product: 'Acme', signInUrl: 'https://acme.example/in' };
const input = (over: Partial<DeliverInput> = {}): DeliverInput => ({
  notificationId: 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f',
  channel: 'sms',
  to: '+14155550123',
  content: { $template: { name: 'welcome', data } },
  idempotencyKey: 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f.sms',
  ...over,
});
/** Runs `deliver` with these recipient-store answers; returns the result or the thrown failure. */
async function deliver(i: DeliverInput, locale?: string): Promise<unknown> {
  const activities = createActivities({
    senders: new Map([['sms', sender]]),
    logger: silentLogger,
    templates: store,
    recipients: {
      resolve: (q) => Promise.resolve({ kind: 'send', to: q.to ?? '+14155550199', ...(locale ? { locale } : {}) }),
      addSuppression: () => Promise.reject(new Error('not expected')),
    },
  });
  return new MockActivityEnvironment().run((x: DeliverInput) => activities.deliver(x), i).catch((err: unknown) => err);
}

describe('deliver with a template reference', () => {
  it("sends the content rendered in the recipient's locale and returns the template version and locale", async () => {
    sent.length = 0;
    const result = await deliver(input({ to: undefined, recipient: 'user-1' }), 'de-CH');
    expect(sent).toEqual([
      { to: '+14155550199', content: { body: 'Hallo Ada, dein Acme-Konto ist bereit: https://acme.example/in' } },
    ]);
    expect(result).toMatchObject({
      providerMessageId: 'p1',
      template: { name: 'welcome', version: store.describe('welcome')?.version, locale: 'de' },
    });
  });

  it('fails permanently (TemplateRenderFailed) without sending when data lacks a variable', async () => {
    sent.length = 0;
    const err = await deliver(input({ content: { $template: { name: 'welcome', data: { product: 'Acme' } } } }));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: TEMPLATE_RENDER_FAILED, nonRetryable: true });
    expect((err as Error).message).toContain('undefined variable');
    expect(sent).toEqual([]);
  });

  it('is retried (TemplateUnavailable) when this worker does not have the template', async () => {
    sent.length = 0;
    const err = await deliver(input({ content: { $template: { name: 'not-deployed-here', data } } }));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: TEMPLATE_UNAVAILABLE, nonRetryable: false });
    expect(sent).toEqual([]);
  });

  it('passes caller-written content through unchanged and reports no template', async () => {
    sent.length = 0;
    const result = await deliver(input({ content: { body: 'plain' } }));
    expect(sent[0]?.content).toEqual({ body: 'plain' });
    expect(result).not.toHaveProperty('template');
  });
});
