-- Recipients (profiles + preferences + quiet hours) and suppressions, scoped by owner (the API key's client id).
CREATE TABLE recipients (
  owner        text        NOT NULL,
  recipient_id text        NOT NULL,
  addresses    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  timezone     text,
  locale       text,
  properties   jsonb       NOT NULL DEFAULT '{}'::jsonb,
  quiet_hours  jsonb,
  preferences  jsonb       NOT NULL DEFAULT '{}'::jsonb,
  version      integer     NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, recipient_id)
);

CREATE TABLE suppressions (
  owner           text        NOT NULL,
  channel         text        NOT NULL,
  address         text        NOT NULL,
  reason          text        NOT NULL,
  source          text        NOT NULL CHECK (source IN ('api', 'automatic')),
  recipient_id    text,
  notification_id text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, channel, address)
);

CREATE INDEX suppressions_by_recipient ON suppressions (owner, recipient_id) WHERE recipient_id IS NOT NULL;
