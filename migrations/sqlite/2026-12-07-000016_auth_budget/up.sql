-- The per-IP budget of the authentication endpoints (AUTH_RATE_LIMIT_PER_MINUTE), shared by
-- every instance on this database. One row per client address holds the generic cell rate
-- algorithm's "theoretical arrival time" in Unix milliseconds: a request is let through when
-- pushing it one interval (a minute / the limit) later stays within a minute of now. Only
-- authentication calls touch it; rows whose budget is whole again are purged by
-- housekeeping.
CREATE TABLE auth_budget (
    ip TEXT PRIMARY KEY NOT NULL,
    tat_ms BIGINT NOT NULL
);
