import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { convert as htmlToText } from 'html-to-text';
import { Liquid } from 'liquidjs';
import type { Template } from 'liquidjs';
import type mjml2html from 'mjml';
import { getChannel } from '../channels/registry.js';

/** The channels a template can have a file for, and the file names that make up each (the first ones required). */
export const TEMPLATE_FILES = {
  email: { required: ['email.subject.liquid', 'email.mjml.liquid'], optional: ['email.text.liquid'] },
  sms: { required: ['sms.liquid'], optional: [] },
  slack: { required: ['slack.liquid'], optional: ['slack.blocks.liquid'] },
  webhook: { required: ['webhook.liquid'], optional: [] },
} as const;

/** A channel templates can render for. */
export type TemplateChannel = keyof typeof TEMPLATE_FILES;
const TEMPLATE_CHANNELS = Object.keys(TEMPLATE_FILES) as TemplateChannel[];

/** Template names: lower-case letters, digits, `-` and `_` (a `.` separates the locale of a variant folder). */
export const TEMPLATE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const LOCALE = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/;
/** Folder of files any template may `{% render %}` / `{% include %}` (e.g. `{% render "_partials/footer" %}`). */
const PARTIALS_DIR = '_partials';

/** Where templates live and which locale a recipient without one (or without a matching variant) gets. */
export interface TemplateStoreOptions {
  /** Folder with one sub-folder per template (`welcome/`) and per locale variant (`welcome.de/`). */
  dir: string;
  /** Locale of the base folders (`welcome/`), e.g. `en`. */
  defaultLocale: string;
}

/** A template as `GET /v1/templates` lists it. */
export interface TemplateSummary {
  name: string;
  channels: TemplateChannel[];
  /** The default locale first, then the variants' locales. */
  locales: string[];
  /** Variables the template reads (every channel, every locale): `data` must provide each, e.g. `user.name`. */
  requiredVariables: string[];
  /** Content hash of every file of the template and its variants (and the shared partials). */
  version: string;
}

/** Rendered content in the channel's own content shape, and which template version and locale produced it. */
export interface RenderedTemplate {
  content: Record<string, unknown>;
  version: string;
  locale: string;
}

/** A template file that is not valid Liquid or MJML: names the file (relative to the template folder) and the line. */
export class TemplateCompileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`template ${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
    this.name = 'TemplateCompileError';
  }
}

/** No template of that name, or it has no file for the channel. */
export class TemplateNotFoundError extends Error {
  constructor(
    readonly template: string,
    readonly channel?: string,
  ) {
    super(
      channel === undefined
        ? `unknown template "${template}"`
        : `template "${template}" has no file for channel "${channel}"`,
    );
    this.name = 'TemplateNotFoundError';
  }
}

/** Rendering failed: a variable `data` lacks (strict variables), or the output is not valid content for the channel. */
export class TemplateRenderError extends Error {
  constructor(
    readonly template: string,
    readonly channel: string,
    detail: string,
  ) {
    super(`template "${template}" (${channel}): ${detail}`);
    this.name = 'TemplateRenderError';
  }
}

/** One compiled file: its Liquid templates and the variable paths it reads. */
interface CompiledFile {
  file: string;
  engine: 'html' | 'text' | 'json';
  templates: Template[];
  variables: Array<Array<string | number>>;
  /** MJML files: the plain-text part, derived from the compiled HTML once at load (Liquid tags survive html-to-text). */
  text?: Template[];
}

/** One locale of one template: a compiled file set per channel. */
type CompiledVariant = Partial<Record<TemplateChannel, Partial<Record<string, CompiledFile>>>>;

interface CompiledTemplate {
  name: string;
  version: string;
  /** `''` is the base folder (default locale). */
  variants: Map<string, CompiledVariant>;
}

/** The three Liquid environments: HTML output is escaped, JSON output is JSON-encoded, text is left as is. */
interface Engines {
  html: Liquid;
  text: Liquid;
  json: Liquid;
}

/**
 * Compiled templates by content hash: a second store over the same files (gateway and worker in one process, tests)
 * reuses them instead of running MJML again.
 */
const compiledByHash = new Map<string, CompiledTemplate>();

/**
 * Templates as code: `<dir>/<name>/` holds one file per channel in Liquid (`email.subject.liquid` +
 * `email.mjml.liquid` [+ `email.text.liquid`], `sms.liquid`, `slack.liquid` [+ `slack.blocks.liquid`],
 * `webhook.liquid`), `<dir>/<name>.<locale>/` a locale variant (files it lacks come from the base folder).
 *
 * Loaded and compiled once per process (`loadTemplateStore`): MJML runs at load time on the MJML source (Liquid in
 * text and attribute values passes through; wrap control tags between MJML elements in `<mj-raw>`), so a message only
 * costs a Liquid render (plus html-to-text when there is no `email.text.liquid`). Strict variables and filters; no
 * file access at render time (includes resolve only among the loaded `_partials/` files; `mj-include` is off).
 */
export class TemplateStore {
  private constructor(
    private readonly templates: ReadonlyMap<string, CompiledTemplate>,
    private readonly engines: Engines,
    readonly defaultLocale: string,
  ) {}

  /** Reads and compiles every template under `options.dir`; throws `TemplateCompileError` naming file and line. */
  static async load(options: TemplateStoreOptions): Promise<TemplateStore> {
    try {
      return await TemplateStore.loadFrom(options);
    } catch (err) {
      // Name the file as the operator finds it: under the configured folder.
      if (err instanceof TemplateCompileError)
        throw new TemplateCompileError(join(options.dir, err.file), err.line, err.detail);
      throw err;
    }
  }

  private static async loadFrom(options: TemplateStoreOptions): Promise<TemplateStore> {
    const dir = resolve(options.dir);
    const defaultLocale = options.defaultLocale.toLowerCase();
    let entries: string[];
    try {
      entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      throw new Error(
        `cannot read the template folder ${dir} (TEMPLATES_DIR): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const partials: Record<string, string> = {};
    if (entries.includes(PARTIALS_DIR)) {
      for (const f of await readdir(join(dir, PARTIALS_DIR))) {
        if (f.endsWith('.liquid'))
          partials[`${PARTIALS_DIR}/${f}`] = await readFile(join(dir, PARTIALS_DIR, f), 'utf8');
      }
    }
    const engines = createEngines(partials);
    const groups = new Map<string, Map<string, string>>();
    for (const folder of entries.filter((e) => e !== PARTIALS_DIR).sort()) {
      const [name = '', locale = '', ...rest] = folder.split('.');
      if (!TEMPLATE_NAME.test(name) || rest.length > 0 || (folder.includes('.') && !LOCALE.test(locale.toLowerCase())))
        throw new TemplateCompileError(
          folder,
          undefined,
          'a template folder is <name> or <name>.<locale> (lower-case letters, digits, - and _; locale like de or pt-br)',
        );
      const variants = groups.get(name) ?? new Map<string, string>();
      variants.set(locale.toLowerCase(), folder);
      groups.set(name, variants);
    }
    const templates = new Map<string, CompiledTemplate>();
    for (const [name, folders] of groups) {
      if (!folders.has(''))
        throw new TemplateCompileError(
          [...folders.values()][0] ?? name,
          undefined,
          `a locale variant needs the base folder ${name}/ (default locale ${defaultLocale})`,
        );
      const sources = new Map<string, Map<string, string>>();
      const hash = createHash('sha256').update(JSON.stringify(Object.entries(partials).sort()));
      for (const [locale, folder] of [...folders].sort(([a], [b]) => a.localeCompare(b))) {
        const files = new Map<string, string>();
        for (const f of (await readdir(join(dir, folder))).sort()) {
          const known = TEMPLATE_CHANNELS.some((c) =>
            [...TEMPLATE_FILES[c].required, ...TEMPLATE_FILES[c].optional].includes(f as never),
          );
          if (!known)
            throw new TemplateCompileError(
              `${folder}/${f}`,
              undefined,
              `unknown template file; expected one of ${TEMPLATE_CHANNELS.flatMap((c) => [...TEMPLATE_FILES[c].required, ...TEMPLATE_FILES[c].optional]).join(', ')}`,
            );
          const text = await readFile(join(dir, folder, f), 'utf8');
          files.set(f, text);
          hash.update(`\0${folder}/${f}\0${text}`);
        }
        sources.set(locale, files);
      }
      const version = hash.digest('hex').slice(0, 16);
      const cached = compiledByHash.get(version);
      templates.set(
        name,
        cached?.name === name ? cached : await compileTemplate(name, version, folders, sources, engines, dir),
      );
      compiledByHash.set(version, templates.get(name) as CompiledTemplate);
    }
    return new TemplateStore(templates, engines, defaultLocale);
  }

  /** Every template, sorted by name. */
  list(): TemplateSummary[] {
    return [...this.templates.keys()].sort().map((name) => this.describe(name) as TemplateSummary);
  }

  /** One template's summary, or undefined when there is none of that name. */
  describe(name: string): TemplateSummary | undefined {
    const t = this.templates.get(name);
    if (t === undefined) return undefined;
    const channels = TEMPLATE_CHANNELS.filter((c) => [...t.variants.values()].some((v) => v[c] !== undefined));
    return {
      name,
      channels,
      locales: [this.defaultLocale, ...[...t.variants.keys()].filter((l) => l !== '').sort()],
      requiredVariables: this.requiredVariables(name),
      version: t.version,
    };
  }

  /**
   * Variable paths the template reads for these channels (all of them when omitted), in every locale — a recipient's
   * locale is known only when the delivery runs. Throws `TemplateNotFoundError` for an unknown template or channel.
   */
  requiredVariables(name: string, channels?: readonly string[]): string[] {
    return [...new Set(this.variableSegments(name, channels).map(formatPath))].sort();
  }

  /** The required variables `data` does not provide (a path that is missing or `undefined`). */
  missingVariables(name: string, channels: readonly string[], data: unknown): string[] {
    const missing = this.variableSegments(name, channels).filter((segments) => !hasPath(data, segments));
    return [...new Set(missing.map(formatPath))].sort();
  }

  /**
   * Renders the template for one channel in the channel's content shape (validated by the channel's content
   * schema), in the variant for `locale` (`de-AT` → `de-at`, then `de`, then the default locale).
   */
  async render(
    name: string,
    channel: string,
    data: Record<string, unknown>,
    locale?: string,
  ): Promise<RenderedTemplate> {
    const t = this.templates.get(name);
    if (t === undefined) throw new TemplateNotFoundError(name);
    if (!isTemplateChannel(channel)) throw new TemplateNotFoundError(name, channel);
    const chosen = this.pickLocale(t, channel, locale);
    const files = { ...t.variants.get('')?.[channel], ...t.variants.get(chosen)?.[channel] };
    if (Object.keys(files).length === 0) throw new TemplateNotFoundError(name, channel);
    const run = async (file: string): Promise<string | undefined> => {
      const f = files[file];
      if (f === undefined) return undefined;
      try {
        return String(await this.engines[f.engine].render(f.templates, data));
      } catch (err) {
        throw new TemplateRenderError(name, channel, `${f.file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    let content: Record<string, unknown>;
    if (channel === 'email') {
      const html = (await run('email.mjml.liquid')) ?? '';
      const derived = files['email.mjml.liquid']?.text;
      const text =
        (await run('email.text.liquid')) ??
        (derived !== undefined
          ? await this.renderDerived(name, channel, derived, data)
          : htmlToText(html, HTML_TO_TEXT));
      const subject = ((await run('email.subject.liquid')) ?? '').replace(/\s*[\r\n]+\s*/g, ' ').trim();
      content = { subject, text: text.trim(), html };
    } else if (channel === 'sms') {
      content = { body: ((await run('sms.liquid')) ?? '').trim() };
    } else if (channel === 'slack') {
      const blocks = await run('slack.blocks.liquid');
      content = {
        text: ((await run('slack.liquid')) ?? '').trim(),
        ...(blocks !== undefined ? { blocks: parseJson(name, channel, 'slack.blocks.liquid', blocks) } : {}),
      };
    } else {
      const json = parseJson(name, channel, 'webhook.liquid', (await run('webhook.liquid')) ?? '');
      if (typeof json !== 'object' || json === null || Array.isArray(json))
        throw new TemplateRenderError(name, channel, 'webhook.liquid must produce a JSON object');
      content = json as Record<string, unknown>;
    }
    const schema = getChannel(channel)?.contentSchema;
    const checked = schema?.safeParse(content);
    if (checked !== undefined && !checked.success) {
      const issues = checked.error.issues.map((i) => `${i.path.join('.') || 'content'}: ${i.message}`).join('; ');
      throw new TemplateRenderError(name, channel, `rendered content is not valid ${channel} content: ${issues}`);
    }
    return { content, version: t.version, locale: chosen === '' ? this.defaultLocale : chosen };
  }

  private async renderDerived(
    name: string,
    channel: string,
    text: Template[],
    data: Record<string, unknown>,
  ): Promise<string> {
    try {
      return String(await this.engines.text.render(text, data));
    } catch (err) {
      throw new TemplateRenderError(
        name,
        channel,
        `email.mjml.liquid (text part): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private pickLocale(t: CompiledTemplate, channel: TemplateChannel, locale: string | undefined): string {
    if (locale === undefined) return '';
    const wanted = locale.toLowerCase().replace(/_/g, '-');
    const language = wanted.split('-')[0] ?? '';
    for (const candidate of [wanted, language]) {
      if (candidate === this.defaultLocale) return '';
      if (t.variants.get(candidate)?.[channel] !== undefined) return candidate;
    }
    return '';
  }

  private variableSegments(name: string, channels?: readonly string[]): Array<Array<string | number>> {
    const t = this.templates.get(name);
    if (t === undefined) throw new TemplateNotFoundError(name);
    const wanted = channels ?? TEMPLATE_CHANNELS;
    const out: Array<Array<string | number>> = [];
    for (const channel of wanted) {
      const perVariant = [...t.variants.values()].map((v) => (isTemplateChannel(channel) ? v[channel] : undefined));
      if (perVariant.every((files) => files === undefined)) {
        if (channels !== undefined) throw new TemplateNotFoundError(name, channel);
        continue;
      }
      for (const files of perVariant) for (const f of Object.values(files ?? {})) out.push(...(f?.variables ?? []));
    }
    return out;
  }
}

/** Whether a channel name is one templates can render for. */
export function isTemplateChannel(channel: string): channel is TemplateChannel {
  return Object.hasOwn(TEMPLATE_FILES, channel);
}

/** Loads and compiles the template folder (see `TemplateStore`); a compile error names the file and the line. */
export function loadTemplateStore(options: TemplateStoreOptions): Promise<TemplateStore> {
  return TemplateStore.load(options);
}

const HTML_TO_TEXT = {
  // No wrapping and no upper-casing: the input is the compiled HTML with its Liquid tags, which must come out intact.
  wordwrap: false as const,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'title', format: 'skip' },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', options: { uppercaseHeaderCells: false } },
  ],
};

function createEngines(partials: Record<string, string>): Engines {
  const common = {
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    // Includes resolve only among the loaded partials: no file system access, nothing outside the template folder.
    templates: partials,
    extname: '.liquid',
    cache: true,
  };
  return {
    html: new Liquid({ ...common, outputEscape: 'escape' }),
    text: new Liquid(common),
    json: new Liquid({ ...common, outputEscape: 'json' }),
  };
}

async function compileTemplate(
  name: string,
  version: string,
  folders: Map<string, string>,
  sources: Map<string, Map<string, string>>,
  engines: Engines,
  dir: string,
): Promise<CompiledTemplate> {
  const variants = new Map<string, CompiledVariant>();
  for (const [locale, files] of sources) {
    const folder = folders.get(locale) ?? name;
    const variant: CompiledVariant = {};
    for (const channel of TEMPLATE_CHANNELS) {
      const { required, optional } = TEMPLATE_FILES[channel];
      const present = [...required, ...optional].filter((f) => files.has(f));
      if (present.length === 0) continue;
      // A variant may override single files; a base folder must have all required files of a channel it serves.
      if (locale === '') {
        const lacking = required.filter((f) => !files.has(f));
        if (lacking.length > 0)
          throw new TemplateCompileError(
            `${folder}/${lacking[0]}`,
            undefined,
            `missing (the ${channel} channel needs ${required.join(' and ')})`,
          );
      }
      const compiled: Partial<Record<string, CompiledFile>> = {};
      for (const file of present) {
        compiled[file] = await compileFile(
          `${folder}/${file}`,
          files.get(file) ?? '',
          engines,
          join(dir, folder, file),
        );
      }
      variant[channel] = compiled;
    }
    variants.set(locale, variant);
  }
  return { name, version, variants };
}

let mjml: Promise<typeof mjml2html> | undefined;
/** MJML's compiler, loaded on the first MJML file (about half a second): a process without one never loads it. */
function loadMjml(): Promise<typeof mjml2html> {
  mjml ??= import('mjml').then((m) => m.default);
  return mjml;
}

async function compileFile(file: string, source: string, engines: Engines, path: string): Promise<CompiledFile> {
  const engine: CompiledFile['engine'] = file.endsWith('.mjml.liquid')
    ? 'html'
    : file.endsWith('webhook.liquid') || file.endsWith('.blocks.liquid')
      ? 'json'
      : 'text';
  // Liquid first, on the source as written, so that syntax errors point at the author's lines.
  const parsed = parseLiquid(engines[engine], file, source);
  let variables: CompiledFile['variables'];
  try {
    // Static analysis follows includes, so an include of anything but a loaded partial fails here, at load.
    variables = engines[engine].globalVariableSegmentsSync(parsed).map(staticPrefix);
  } catch (err) {
    throw new TemplateCompileError(file, lineOf(err), err instanceof Error ? err.message : String(err));
  }
  if (engine !== 'html') return { file, engine, templates: parsed, variables };
  // Outside the `try`: a failure to load MJML itself is not the template's fault.
  const compile = await loadMjml();
  let result: Awaited<ReturnType<typeof mjml2html>>;
  try {
    result = await compile(source, { validationLevel: 'strict', ignoreIncludes: true, filePath: path });
  } catch (err) {
    const errors = (err as { errors?: Array<{ line?: number; message?: string }> }).errors;
    const first = errors?.[0];
    throw new TemplateCompileError(
      file,
      first?.line ?? lineOf(err),
      `invalid MJML: ${first?.message ?? (err instanceof Error ? err.message : String(err))}`,
    );
  }
  const first = result.errors[0];
  if (first !== undefined) throw new TemplateCompileError(file, first.line, `invalid MJML: ${first.message}`);
  // The plain-text part is derived here, once: html-to-text on the compiled HTML keeps the Liquid tags as text, so a
  // message renders it like any text file instead of converting its HTML.
  const text = parseLiquid(engines.text, `${file} (text part)`, htmlToText(result.html, HTML_TO_TEXT));
  return { file, engine, templates: parseLiquid(engines.html, file, result.html), variables, text };
}

function parseLiquid(engine: Liquid, file: string, source: string): Template[] {
  try {
    return engine.parse(source, file);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new TemplateCompileError(file, lineOf(err), `invalid Liquid: ${message.replace(/, file:[^,]*/, '')}`);
  }
}

function lineOf(err: unknown): number | undefined {
  const match = /line:(\d+)/.exec(err instanceof Error ? err.message : String(err));
  return match?.[1] !== undefined ? Number(match[1]) : undefined;
}

function parseJson(name: string, channel: string, file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TemplateRenderError(
      name,
      channel,
      `${file} did not produce JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** A path's leading literal segments: `a[b.c].d` (an index computed from another variable) is checked as `a`. */
function staticPrefix(segments: readonly unknown[]): Array<string | number> {
  const out: Array<string | number> = [];
  for (const s of segments) {
    if (typeof s !== 'string' && typeof s !== 'number') break;
    out.push(s);
  }
  return out;
}

function formatPath(segments: Array<string | number>): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function hasPath(data: unknown, segments: Array<string | number>): boolean {
  let cur: unknown = data;
  for (const s of segments) {
    if (typeof cur !== 'object' || cur === null) return false;
    if (!Object.hasOwn(cur, s)) return false;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur !== undefined;
}
