/** Templates as code: Liquid + MJML files under the template folder, compiled once per process. */
export {
  isTemplateChannel,
  loadTemplateStore,
  TEMPLATE_FILES,
  TEMPLATE_NAME,
  TemplateCompileError,
  TemplateNotFoundError,
  TemplateRenderError,
  TemplateStore,
} from './template-store.js';
export type { RenderedTemplate, TemplateChannel, TemplateStoreOptions, TemplateSummary } from './template-store.js';
