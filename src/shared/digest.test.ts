import { describe, expect, it } from 'vitest';
import { combineDigestContent, digestSendId, digestWorkflowId, parseDigestWindow } from './digest.js';

describe('digest helpers', () => {
  it('parses whole seconds, minutes and hours and refuses anything else', () => {
    expect(parseDigestWindow('10s')).toBe(10_000);
    expect(parseDigestWindow('10m')).toBe(600_000);
    expect(parseDigestWindow('24h')).toBe(86_400_000);
    for (const bad of ['', '10', '0s', '1.5m', '10 m', '-1h', '10d', '01m'])
      expect(parseDigestWindow(bad)).toBeUndefined();
  });

  it('derives one workflow id per deployment, client, recipient and key, unambiguously', () => {
    expect(digestWorkflowId('notify', 'acme', 'user:1', 'comments')).toBe('digest/notify/acme/user:1/comments');
    expect(digestWorkflowId('notify', 'a', 'b:c', 'k')).not.toBe(digestWorkflowId('notify', 'a:b', 'c', 'k'));
    expect(digestSendId('ntf_0123abc')).toBe('dgs_0123abc');
  });

  it('combines email contents into one message naming every notification id', () => {
    const content = combineDigestContent('email', 'dgs_1', [
      { notificationId: 'ntf_a', content: { subject: 'New comment', text: 'first' } },
      { notificationId: 'ntf_b', content: { subject: 'Other', text: 'second', html: '<b>second</b>' } },
    ]) as { subject: string; text: string; html?: string; headers: Record<string, string> };
    expect(content.subject).toBe('New comment (+1 more)');
    expect(content.text).toContain('first');
    expect(content.text).toContain('second');
    expect(content.html).toContain('<p>first</p>');
    expect(content.html).toContain('<b>second</b>');
    expect(content.headers['X-Notify-Digest-Items']).toBe('ntf_a ntf_b');
    expect(content.headers['X-Notify-Digest']).toBe('dgs_1; count=2');
  });

  it('hands one template the whole digest when every notification names it: the list of their data, count and send id', () => {
    const ref = (data: Record<string, unknown>) => ({ $template: { name: 'comment-digest', data } });
    const content = combineDigestContent('sms', 'dgs_1', [
      { notificationId: 'ntf_a', content: ref({ author: 'Ada' }) },
      { notificationId: 'ntf_b', content: ref({ author: 'Grace' }) },
    ]);
    expect(content).toEqual({
      $template: {
        name: 'comment-digest',
        data: { items: [{ author: 'Ada' }, { author: 'Grace' }], count: 2, digest: 'dgs_1' },
      },
    });
  });

  it('combines notifications of different templates as plain content, not as one template', () => {
    const content = combineDigestContent('webhook', 'dgs_2', [
      { notificationId: 'ntf_a', content: { $template: { name: 'one', data: {} } } },
      { notificationId: 'ntf_b', content: { $template: { name: 'two', data: {} } } },
    ]) as { count: number; items: unknown[] };
    expect(content.count).toBe(2);
    expect(content.items).toHaveLength(2);
  });

  it('keeps a combined SMS within 1600 characters and says how many did not fit', () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({
      notificationId: `ntf_${i}`,
      content: { body: `${i}:${'x'.repeat(95)}` },
    }));
    const { body } = combineDigestContent('sms', 'dgs_1', entries) as { body: string };
    expect(body.length).toBeLessThanOrEqual(1600);
    expect(body).toMatch(/\(\+\d+ more\)$/);
    expect(body.startsWith('0:')).toBe(true);
    const small = combineDigestContent('sms', 'dgs_1', entries.slice(0, 2)) as { body: string };
    expect(small.body.split('\n')).toHaveLength(2);
  });

  it('lists the items of a webhook digest with their ids and contents', () => {
    expect(combineDigestContent('webhook', 'dgs_1', [{ notificationId: 'ntf_a', content: { event: 'e' } }])).toEqual({
      digest: 'dgs_1',
      count: 1,
      items: [{ notificationId: 'ntf_a', content: { event: 'e' } }],
    });
  });
});
