/**
 * Development credentials shared by the sinks and the channels' default settings (each channel repeats its value in
 * its configSchema default: channel code does not import dev code).
 */

/** Default webhook signing secret (Standard Webhooks form: `whsec_` + base64). Matches WEBHOOK_SIGNING_SECRET's default. */
export const DEV_WEBHOOK_SECRET = 'whsec_bm90aWZ5LWRldi13ZWJob29rLXNlY3JldA==';
