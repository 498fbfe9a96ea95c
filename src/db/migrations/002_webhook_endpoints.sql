-- Webhook endpoints of each client (delivery events to the caller) and the deliveries of events to them.
-- Signing secrets are stored sealed with the payload keyring (AES-256-GCM, AAD = endpoint id): {"kid","iv","ct"}.
CREATE TABLE webhook_endpoints (
  id                         text        PRIMARY KEY,
  owner                      text        NOT NULL,
  url                        text        NOT NULL,
  description                text,
  event_types                text[]      NOT NULL,
  secret                     jsonb       NOT NULL,
  previous_secret            jsonb,
  previous_secret_expires_at timestamptz,
  status                     text        NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  disabled_reason            text,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_endpoints_by_owner ON webhook_endpoints (owner, created_at);

-- One row per (event, endpoint): the current state of that delivery.
CREATE TABLE webhook_deliveries (
  event_id        text        NOT NULL,
  endpoint_id     text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_type      text        NOT NULL,
  notification_id text        NOT NULL,
  status          text        NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'retrying', 'delivered', 'failed', 'endpoint-disabled')),
  attempts        integer     NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  PRIMARY KEY (endpoint_id, event_id)
);

CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (endpoint_id, created_at DESC);

-- Every HTTP attempt (status code or error, duration).
CREATE TABLE webhook_delivery_attempts (
  endpoint_id  text        NOT NULL,
  event_id     text        NOT NULL,
  attempt      integer     NOT NULL,
  status_code  integer,
  error        text,
  duration_ms  integer     NOT NULL,
  attempted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (endpoint_id, event_id, attempt),
  FOREIGN KEY (endpoint_id, event_id) REFERENCES webhook_deliveries (endpoint_id, event_id) ON DELETE CASCADE
);
