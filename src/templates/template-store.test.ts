import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTemplateStore, TemplateCompileError, TemplateNotFoundError, TemplateRenderError } from './index.js';
import type { TemplateStore } from './index.js';

const data = { user: { name: 'Ada <Lovelace>' }, product: 'Acme', signInUrl: 'https://acme.example/in?a=1&b=2' };
const scratch: string[] = [];

/** A template folder with the given files (`folder/file` → text). */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'notify-templates-'));
  scratch.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('template store (the shipped templates/ folder)', () => {
  it('lists welcome with its channels, locales, required variables and a content-hash version', async () => {
    const store = await loadTemplateStore({ dir: 'templates', defaultLocale: 'en' });
    const welcome = store.list().find((t) => t.name === 'welcome');
    expect(welcome).toMatchObject({
      channels: ['email', 'sms', 'slack', 'webhook'],
      locales: ['en', 'de'],
      requiredVariables: ['product', 'signInUrl', 'user.name'],
    });
    expect(welcome?.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('renders MJML email to responsive HTML plus a plain-text part, escaping variables in the HTML only', async () => {
    const store = await loadTemplateStore({ dir: 'templates', defaultLocale: 'en' });
    const { content, version, locale } = await store.render('welcome', 'email', data);
    const email = content as { subject: string; text: string; html: string };
    expect(email.subject).toBe('Welcome to Acme, Ada <Lovelace>');
    expect(email.html).toMatch(/^<!doctype html>/i);
    expect(email.html).toContain('@media only screen'); // MJML's responsive breakpoints
    expect(email.html).toContain('Hi Ada &lt;Lovelace&gt;,');
    expect(email.html).toContain('href="https://acme.example/in?a=1&amp;b=2"');
    expect(email.text).toContain('Hi Ada <Lovelace>,');
    expect(email.text).toContain('Sign in [https://acme.example/in?a=1&b=2]');
    expect(email.text).not.toMatch(/<(table|div|a) /);
    expect(locale).toBe('en');
    expect(version).toBe(store.describe('welcome')?.version);
  });

  it('renders SMS, Slack (text and blocks) and webhook JSON in their channels’ content shapes', async () => {
    const store = await loadTemplateStore({ dir: 'templates', defaultLocale: 'en' });
    expect((await store.render('welcome', 'sms', data)).content).toEqual({
      body: 'Hi Ada <Lovelace>, your Acme account is ready: https://acme.example/in?a=1&b=2',
    });
    const slack = (await store.render('welcome', 'slack', data)).content;
    expect(slack.text).toBe(':wave: Ada <Lovelace> joined Acme');
    expect(slack.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: '*Ada <Lovelace>* joined Acme' } }]);
    const hook = (await store.render('welcome', 'webhook', { ...data, user: { name: 'A "quoted" name' } })).content;
    expect(hook).toMatchObject({ event: 'user.welcomed', user: { name: 'A "quoted" name' } });
  });

  it('picks the locale variant by recipient locale (de-AT → de), and falls back to the default locale', async () => {
    const store = await loadTemplateStore({ dir: 'templates', defaultLocale: 'en' });
    const de = await store.render('welcome', 'sms', data, 'de-AT');
    expect(de.locale).toBe('de');
    expect(de.content.body).toMatch(/^Hallo Ada/);
    const fr = await store.render('welcome', 'sms', data, 'fr');
    expect(fr.locale).toBe('en');
    expect(fr.content.body).toMatch(/^Hi Ada/);
    // The de variant has no Slack file: the base folder's is used, and the locale says so.
    const slack = await store.render('welcome', 'slack', data, 'de');
    expect(slack.locale).toBe('en');
  });

  it('is strict: a variable data lacks fails the render and is reported by missingVariables', async () => {
    const store = await loadTemplateStore({ dir: 'templates', defaultLocale: 'en' });
    expect(store.missingVariables('welcome', ['sms'], { product: 'Acme', user: {} })).toEqual([
      'signInUrl',
      'user.name',
    ]);
    expect(store.missingVariables('welcome', ['sms'], data)).toEqual([]);
    await expect(store.render('welcome', 'sms', { product: 'Acme', signInUrl: 'x', user: {} })).rejects.toThrow(
      TemplateRenderError,
    );
    await expect(store.render('welcome', 'sms', { product: 'Acme', signInUrl: 'x', user: {} })).rejects.toThrow(
      /undefined variable: user\.name/,
    );
  });

  it('requires the list a for loop iterates, not the loop variable or forloop', async () => {
    const dir = folder({
      'team/sms.liquid':
        '{% for member in members limit: max %}{{ member.name }}{% unless forloop.last %}, {% endunless %}{% endfor %}',
      // A loop variable shadowing a data key: inside the loop it is the item, after it the data key again.
      'team/slack.liquid':
        '{% for user in people %}{{ user.name }} {{ forloop.index }}{% endfor %} by {{ user.email }}',
    });
    const store = await loadTemplateStore({ dir, defaultLocale: 'en' });
    expect(store.requiredVariables('team', ['sms'])).toEqual(['max', 'members']);
    expect(store.requiredVariables('team', ['slack'])).toEqual(['people', 'user.email']);
    expect(store.missingVariables('team', ['sms'], { members: [{ name: 'Ada' }], max: 5 })).toEqual([]);
    expect(store.missingVariables('team', ['sms'], { max: 5 })).toEqual(['members']);
    expect(store.missingVariables('team', ['slack'], { people: [{ name: 'Ada' }] })).toEqual(['user.email']);
    await expect(
      store.render('team', 'sms', { members: [{ name: 'Ada' }, { name: 'Grace' }], max: 5 }),
    ).resolves.toMatchObject({ content: { body: 'Ada, Grace' } });
  });

  it('names an unknown template or a channel it has no file for', async () => {
    const dir = folder({ 'otp/sms.liquid': 'Code {{ code }}' });
    const store = await loadTemplateStore({ dir, defaultLocale: 'en' });
    await expect(store.render('nope', 'sms', {})).rejects.toThrow(TemplateNotFoundError);
    await expect(store.render('otp', 'email', { code: 1 })).rejects.toThrow(/has no file for channel "email"/);
    expect(() => store.requiredVariables('otp', ['email'])).toThrow(TemplateNotFoundError);
    expect(store.requiredVariables('otp', ['sms'])).toEqual(['code']);
  });

  it('refuses rendered content the channel would refuse (an SMS over 1600 characters)', async () => {
    const dir = folder({ 'long/sms.liquid': '{{ text }}' });
    const store = await loadTemplateStore({ dir, defaultLocale: 'en' });
    await expect(store.render('long', 'sms', { text: 'x'.repeat(1601) })).rejects.toThrow(
      /not valid sms content: body: body may be at most 1600 characters/,
    );
  });

  it('stops at load with the file and line of a Liquid syntax error', async () => {
    const dir = folder({ 'broken/sms.liquid': 'Hi\n{{ user.name }}\n{% if user.vip %}VIP' });
    const err = await loadTemplateStore({ dir, defaultLocale: 'en' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateCompileError);
    expect((err as TemplateCompileError).line).toBe(3);
    expect((err as Error).message).toContain(`${join(dir, 'broken/sms.liquid')}:3`);
  });

  it('stops at load with the file and line of an unknown filter (strict filters)', async () => {
    const dir = folder({ 'typo/sms.liquid': 'Hi\n\n{{ user.name | upcasee }}' });
    const err = await loadTemplateStore({ dir, defaultLocale: 'en' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateCompileError);
    expect((err as Error).message).toMatch(/typo\/sms\.liquid:3: .*upcasee/);
  });

  it('stops at load with the file and line of invalid MJML', async () => {
    const mjml =
      '<mjml>\n  <mj-body>\n    <mj-section>\n      <mj-colum><mj-text>x</mj-text></mj-colum>\n    </mj-section>\n  </mj-body>\n</mjml>';
    const dir = folder({ 'bad/email.subject.liquid': 'Hi', 'bad/email.mjml.liquid': mjml });
    const err = await loadTemplateStore({ dir, defaultLocale: 'en' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateCompileError);
    expect((err as TemplateCompileError).line).toBe(4);
    expect((err as Error).message).toMatch(/bad\/email\.mjml\.liquid:4: invalid MJML/);
  });

  it('never reads files outside the loaded templates: includes resolve only among _partials, mj-include is off', async () => {
    const outside = folder({ 'secret.liquid': 'TOP SECRET' });
    const dir = folder({
      '_partials/footer.liquid': 'Bye {{ name }}',
      'ok/sms.liquid': 'Hi {{ name }}. {% include "_partials/footer" %}',
    });
    const store = await loadTemplateStore({ dir, defaultLocale: 'en' });
    expect((await store.render('ok', 'sms', { name: 'Ada' })).content.body).toBe('Hi Ada. Bye Ada');
    const escape = folder({ 'escape/sms.liquid': `{% include "${join(outside, 'secret')}" %}` });
    const err = await loadTemplateStore({ dir: escape, defaultLocale: 'en' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateCompileError);
    expect((err as Error).message).toMatch(/escape\/sms\.liquid.*Failed to lookup/);
    const mjml = `<mjml><mj-body><mj-include path="${join(outside, 'secret.liquid')}" /></mj-body></mjml>`;
    const inc = folder({ 'inc/email.subject.liquid': 'Hi', 'inc/email.mjml.liquid': mjml });
    const loaded: TemplateStore | Error = await loadTemplateStore({ dir: inc, defaultLocale: 'en' }).catch(
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );
    if (loaded instanceof Error) expect(loaded.message).not.toContain('TOP SECRET');
    else {
      const out = await loaded.render('inc', 'email', {}).then(
        (r) => JSON.stringify(r.content),
        (e: unknown) => String(e),
      );
      expect(out).not.toContain('TOP SECRET');
    }
  });

  it('changes the version when a file changes, and keeps it for the same content', async () => {
    const a = folder({ 'otp/sms.liquid': 'Code {{ code }}' });
    const b = folder({ 'otp/sms.liquid': 'Code {{ code }}' });
    const c = folder({ 'otp/sms.liquid': 'Your code {{ code }}' });
    const v = async (dir: string) => (await loadTemplateStore({ dir, defaultLocale: 'en' })).describe('otp')?.version;
    expect(await v(a)).toBe(await v(b));
    expect(await v(a)).not.toBe(await v(c));
  });
});
