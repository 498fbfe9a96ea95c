import { defineChannel } from '../types.js';
import { emailConfigSchema, emailContentSchema, emailDevelopmentSettings, emailRecipientSchema } from './schema.js';
import { createEmailSender } from './sender.js';

/** Email over SMTP (nodemailer): plain text plus optional HTML, to one address or up to 50. */
export const emailChannel = defineChannel({
  name: 'email',
  description:
    'Email over SMTP. `to` is an address or a list of up to 50; content has subject, text and optional html.',
  recipientSchema: emailRecipientSchema,
  contentSchema: emailContentSchema,
  configSchema: emailConfigSchema,
  developmentSettings: emailDevelopmentSettings,
  createSender: createEmailSender,
});

export { createEmailSender, createSmtpRelaySender, smtpDeliveryError } from './sender.js';
export {
  emailConfigSchema,
  emailContentSchema,
  emailDevelopmentSettings,
  emailRecipientSchema,
  mailboxSchema,
  MAX_EMAIL_RECIPIENTS,
  parseSmtpUrl,
  relayName,
  smtpRelays,
} from './schema.js';
export type { EmailConfig, EmailContent, EmailRecipient, SmtpRelay } from './schema.js';
