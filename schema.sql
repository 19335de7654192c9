-- unicas schema, in versioned sections. At start every section newer than the database's
-- PRAGMA user_version is applied, all in one transaction, and user_version is set to the last
-- one (see store/mod.rs). A database newer than the binary is refused. Sections are only ever
-- appended; a released section never changes.

-- @version 1: accounts, extra attributes, service registry, SSO sessions, login throttling,
-- audit log, and room for the first-login and self-service flows (bindings, codes, history).

CREATE TABLE IF NOT EXISTS accounts (
    id            TEXT PRIMARY KEY,           -- canonical account id: student or payroll number
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('student', 'staff', 'admin')),
    department    TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'disabled')),
    password_hash TEXT NOT NULL,              -- bcrypt ($2b$), never the password
    must_change   INTEGER NOT NULL DEFAULT 0, -- forces the change-password step at next login
    password_changed_at INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Free-form, multi-valued attributes released to services (e.g. memberOf, containerId).
CREATE TABLE IF NOT EXISTS account_attributes (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (account_id, name, position)
) STRICT;

-- Verified contact and identity-provider bindings (phone, email, wecom, wechat).
CREATE TABLE IF NOT EXISTS bindings (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, kind),
    UNIQUE (kind, value)
) STRICT;

-- One-time codes (SMS, e-mail, recovery): only a hash of the code is kept.
CREATE TABLE IF NOT EXISTS one_time_codes (
    id         TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL,
    account_id TEXT,
    target     TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS password_history (
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    changed_at    INTEGER NOT NULL
) STRICT;

-- The service registry. pattern: an exact URL, a prefix ending in '*', or a regex '^...$'.
CREATE TABLE IF NOT EXISTS services (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    pattern       TEXT NOT NULL UNIQUE,
    enabled       INTEGER NOT NULL DEFAULT 1,
    attributes    TEXT,                      -- NULL: release all; else comma-separated names
    allow_proxy   INTEGER NOT NULL DEFAULT 0,
    logout_url    TEXT,
    portal_title  TEXT,
    portal_description TEXT,
    created_at    INTEGER NOT NULL
) STRICT;

-- SSO sessions (ticket-granting tickets). Only SHA-256 of the TGT id is stored, so a copy of
-- the database cannot be used to hijack a session.
CREATE TABLE IF NOT EXISTS sso_sessions (
    id_hash      TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    auth_time    INTEGER NOT NULL,
    last_used    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,           -- absolute limit
    idle_timeout INTEGER NOT NULL,
    remember_me  INTEGER NOT NULL DEFAULT 0,
    client_ip    TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX IF NOT EXISTS sso_sessions_account ON sso_sessions(account_id);
CREATE INDEX IF NOT EXISTS sso_sessions_expiry ON sso_sessions(expires_at);

-- Failed-login counters per key ('account:<id>' or 'address:<addr>'); kept here so a restart
-- does not hand an attacker a fresh budget.
CREATE TABLE IF NOT EXISTS login_throttle (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE IF NOT EXISTS audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    event      TEXT NOT NULL,
    account_id TEXT,
    client_ip  TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX IF NOT EXISTS audit_log_account ON audit_log(account_id, at);

-- @version 2: the rest of the protocol: per-service attribute aliases, logout and proxy
-- settings; proxy-granting tickets; the services each session must be logged out of.

-- Released names for attributes, one "source=alias" per line (cn=userName).
ALTER TABLE services ADD COLUMN attribute_aliases TEXT NOT NULL DEFAULT '';
-- Single logout: 'back' (server POSTs a LogoutRequest), 'front' (the logged-out page loads
-- the logout URL in the browser), or 'none'.
ALTER TABLE services ADD COLUMN logout_type TEXT NOT NULL DEFAULT 'back'
    CHECK (logout_type IN ('back', 'front', 'none'));
-- Proxy callbacks (pgtUrl) this service may use: a pattern as for services; NULL allows any
-- https URL on the service's own host.
ALTER TABLE services ADD COLUMN proxy_callback TEXT;

-- Proxy-granting tickets: only SHA-256 of the id is kept; they end with their SSO session.
CREATE TABLE proxy_granting_tickets (
    id_hash      TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL REFERENCES sso_sessions(id_hash) ON DELETE CASCADE,
    account_id   TEXT NOT NULL,
    service      TEXT NOT NULL,             -- the service the PGT was issued to
    proxies      TEXT NOT NULL,             -- callback URLs, newest first, one per line
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX proxy_granting_tickets_session ON proxy_granting_tickets(session_hash);

-- Services that validated a ticket of a session and get a logout request when it ends. No
-- foreign key: the rows must outlive the session so its end can be announced.
CREATE TABLE logout_participants (
    session_hash TEXT NOT NULL,
    service_id   INTEGER NOT NULL,
    service      TEXT NOT NULL,             -- the service URL as the client sent it
    ticket       TEXT NOT NULL,             -- the SessionIndex: the ticket it validated
    account_id   TEXT NOT NULL,
    validated_at INTEGER NOT NULL,
    PRIMARY KEY (session_hash, service_id)  -- the most recent ticket per service, as Apereo
) STRICT;

-- @version 3: defects found from outside, and room for the flows ahead.

-- Attribute release written out. NULL used to mean "everything"; now release_all says so and
-- attributes lists names (empty: nothing beyond the user id, the new default). Services
-- registered before keep releasing what they did.
ALTER TABLE services ADD COLUMN release_all INTEGER NOT NULL DEFAULT 0;
UPDATE services SET release_all = 1, attributes = '' WHERE attributes IS NULL;
-- A regex pattern that matches any host is refused unless this is set. At the upgrade it is
-- set for existing such patterns (in code), so they keep working and `service list` flags them.
ALTER TABLE services ADD COLUMN allow_any_host INTEGER NOT NULL DEFAULT 0;
-- Rows `serve --demo` made: disabled whenever the server runs without it.
ALTER TABLE services ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
UPDATE services SET demo = 1 WHERE name = 'Demo application' AND pattern LIKE '%/demo/*';

-- Where an account came from: 'admin' (user add), 'import' (the roster), 'demo'.
ALTER TABLE accounts ADD COLUMN source TEXT NOT NULL DEFAULT 'admin'
    CHECK (source IN ('admin', 'import', 'demo'));
UPDATE accounts SET source = 'demo' WHERE id = 'demo' AND name = '演示用户';
-- From this version accounts.email and accounts.phone hold values sealed with the key file
-- (AES-256-GCM, "v1:..."); the upgrade seals existing ones (in code).

ALTER TABLE audit_log ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_at ON audit_log(at);

-- Throttling keys: 'account:<id>' (captcha, and a global lock only at a far higher count),
-- 'pair:<id>|<address>' (the lock people meet: that account from that address),
-- 'address:<address>'. in_flight counts attempts being checked right now (a reservation,
-- released when the attempt ends, stale after a minute); account_id ties pair rows to their
-- account, to count the addresses failing for it.
ALTER TABLE login_throttle ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_throttle ADD COLUMN in_flight_since INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_throttle ADD COLUMN account_id TEXT;
CREATE INDEX login_throttle_account ON login_throttle(account_id) WHERE account_id IS NOT NULL;

-- Single logout: one participant per service URL (up to the first '?', ';' or '#'), not per
-- registry entry, so every application under one pattern is told. The ticket (the
-- SessionIndex) is sealed with the key file.
CREATE TABLE logout_participants_v3 (
    session_hash TEXT NOT NULL,
    service_key  TEXT NOT NULL,
    service_id   INTEGER NOT NULL,
    service      TEXT NOT NULL,
    ticket       TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    validated_at INTEGER NOT NULL,
    PRIMARY KEY (session_hash, service_key)
) STRICT;
INSERT INTO logout_participants_v3
    SELECT session_hash, service, service_id, service, ticket, account_id, validated_at
    FROM logout_participants;
DROP TABLE logout_participants;
ALTER TABLE logout_participants_v3 RENAME TO logout_participants;

-- Facts about the installation ('key_check': proves the key file belongs to this database).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- @version 4: per-application access rules.

-- Who may use the service, one rule per line: "allow KEY=VALUE" or "deny KEY=VALUE" on the
-- account's attributes (uid, userType, department, containerId, any extra attribute); a value
-- ending in '*' is a prefix. Empty: everyone, as before.
ALTER TABLE services ADD COLUMN access_rules TEXT NOT NULL DEFAULT '';

-- @version 5: first login: the roster's initial passwords, phone binding with SMS codes.

-- 1 while the account still has the roster's initial password (the last six characters of
-- the ID number): a small guess budget, and it expires (first_login.initial_password_days).
ALTER TABLE accounts ADD COLUMN initial_password INTEGER NOT NULL DEFAULT 0;
-- The account must bind a phone at its next login (user add/passwd --must-bind-phone; roster
-- imports need one under first_login.require_phone).
ALTER TABLE accounts ADD COLUMN must_bind_phone INTEGER NOT NULL DEFAULT 0;
-- The last four characters of the ID number, sealed: all that is kept of it, for an
-- administrator confirming someone's identity by hand.
ALTER TABLE accounts ADD COLUMN id_last4 TEXT NOT NULL DEFAULT '';

-- Verified bindings (kind 'phone', 'email', 'wecom', 'wechat'): the value sealed, its keyed
-- hash unique per kind, so one number binds one account. Never used before this version.
DROP TABLE bindings;
CREATE TABLE bindings (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, kind),
    UNIQUE (kind, value_hash)
) STRICT;

-- One-time codes (SMS, e-mail): only a keyed hash of the code; bound to the account, the
-- target (phone or address, by keyed hash) and the purpose; five wrong tries void it.
DROP TABLE one_time_codes;
CREATE TABLE one_time_codes (
    id          INTEGER PRIMARY KEY,
    purpose     TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    target_hash TEXT NOT NULL,
    target      TEXT NOT NULL,             -- sealed, to show it masked
    code_hash   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX one_time_codes_account ON one_time_codes(account_id, purpose);

-- Every SMS sent or attempted: what the rate limits count, and the outbox of the `log`
-- provider (its text sealed). Kept 180 days.
CREATE TABLE sms_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    phone_hash TEXT NOT NULL,
    phone      TEXT NOT NULL,              -- sealed
    account_id TEXT,
    client_ip  TEXT NOT NULL DEFAULT '',
    purpose    TEXT NOT NULL,
    provider   TEXT NOT NULL,
    result     TEXT NOT NULL,              -- 'sent', or why not
    text       TEXT NOT NULL DEFAULT ''    -- sealed; only the log provider keeps it
) STRICT;
CREATE INDEX sms_log_phone ON sms_log(phone_hash, at);
CREATE INDEX sms_log_at ON sms_log(at);
CREATE INDEX sms_log_client ON sms_log(client_ip, at);

-- @version 6: self-service: e-mail codes beside SMS, the portal, security questions.

-- The SMS log becomes the log of every message sent for a code or a notice, by channel
-- ('sms' or 'email'); the target (number or address) by keyed hash, and sealed.
ALTER TABLE sms_log RENAME TO messages;
ALTER TABLE messages RENAME COLUMN phone_hash TO target_hash;
ALTER TABLE messages RENAME COLUMN phone TO target;
ALTER TABLE messages ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
DROP INDEX sms_log_phone;
DROP INDEX sms_log_at;
DROP INDEX sms_log_client;
CREATE INDEX messages_target ON messages(channel, target_hash, at);
CREATE INDEX messages_at ON messages(channel, at);
CREATE INDEX messages_client ON messages(channel, client_ip, at);
CREATE INDEX messages_account ON messages(channel, account_id, at);

-- A code's channel: an account may wait for a phone code and an e-mail code at once.
ALTER TABLE one_time_codes ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
DROP INDEX one_time_codes_account;
CREATE INDEX one_time_codes_account ON one_time_codes(account_id, purpose, channel);

-- The URL the portal links to (through /login?service=); empty: not in the portal.
ALTER TABLE services ADD COLUMN portal_url TEXT NOT NULL DEFAULT '';

-- Up to three security questions per account; the answer normalised (case, width, spaces)
-- and hashed with bcrypt like a password.
CREATE TABLE security_questions (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    slot        INTEGER NOT NULL CHECK (slot BETWEEN 1 AND 3),
    question    TEXT NOT NULL,
    answer_hash TEXT NOT NULL,
    set_at      INTEGER NOT NULL,
    PRIMARY KEY (account_id, slot)
) STRICT;

-- @version 7: the admin console.

-- Validations refused because the service differs from the one the ticket was issued for
-- (INVALID_SERVICE), both as presented: the console shows the recent ones per application.
CREATE TABLE service_mismatches (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL,
    issued     TEXT NOT NULL,
    presented  TEXT NOT NULL,
    at         INTEGER NOT NULL
) STRICT;
CREATE INDEX service_mismatches_service ON service_mismatches(service_id, id);

-- @version 8: one SQL for SQLite and PostgreSQL: no statement reads `rowid`, so the
-- password history gets an id of its own (its order among changes made in one second).
CREATE TABLE password_history_v8 (
    id            INTEGER PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    changed_at    INTEGER NOT NULL
) STRICT;
INSERT INTO password_history_v8 (id, account_id, password_hash, changed_at)
    SELECT rowid, account_id, password_hash, changed_at FROM password_history ORDER BY rowid;
DROP TABLE password_history;
ALTER TABLE password_history_v8 RENAME TO password_history;
CREATE INDEX password_history_account ON password_history(account_id, changed_at);

-- @version 9: defects found from outside in the manual's flows.

-- Bumped whenever what proves the account is revoked: a password set, a status changed, its
-- sessions ended. A flow paused between requests (first login, recovery, a confirmed QR
-- code) remembers it and ends when it moved.
ALTER TABLE accounts ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
-- Repeated failures from one source are one row, counted: the same event, account, address
-- and detail within a minute raise `repeats` and `last_at` instead of adding a row.
ALTER TABLE audit_log ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN last_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX audit_log_repeat ON audit_log(event, client_ip, at);

-- @version 10: the IT office's lists of who has not finished (issue 24 item 11).

-- The account list filters by department.
CREATE INDEX accounts_department ON accounts(department);
-- When each account last logged in, by any method (no row: never). Written with the
-- login's audit row; kept apart from `accounts` so a login rewrites no account row. The
-- audit log (pruned after its retention) seeds it.
CREATE TABLE last_logins (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    at         INTEGER NOT NULL
);
INSERT INTO last_logins (account_id, at)
    SELECT account_id, max(at) FROM audit_log
    WHERE event = 'login_success' AND account_id IN (SELECT id FROM accounts)
    GROUP BY account_id;

-- @version 11: a second factor for people, per application (issue 25).

-- Whether an application asks for a second factor: 'none' or 'required'.
ALTER TABLE services ADD COLUMN mfa TEXT NOT NULL DEFAULT 'none';
-- The account asks for its second factor at every login, whatever the application.
ALTER TABLE accounts ADD COLUMN mfa_always INTEGER NOT NULL DEFAULT 0;
-- How the session was proved: its first factor ('password', 'sms', 'qr', 'wecom', 'wechat')
-- and, once asked, its second ('totp', 'webauthn', 'sms', 'recovery'); the session keeps it
-- for its lifetime.
ALTER TABLE sso_sessions ADD COLUMN first_factor TEXT NOT NULL DEFAULT 'password';
ALTER TABLE sso_sessions ADD COLUMN second_factor TEXT;
-- A proxy-granting ticket keeps the factors of the ticket it was granted for (`Proof::encode`):
-- a later step-up of the session does not reach it.
ALTER TABLE proxy_granting_tickets ADD COLUMN factors TEXT NOT NULL DEFAULT 'password';
-- Recovery codes: ten single-use codes shown once, kept only as keyed hashes.
CREATE TABLE recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (account_id, code_hash)
) STRICT;
-- Passkeys and security keys (WebAuthn), several per account, each with the name its owner
-- gave it. `credential_id` (base64url) is unique across accounts; `passkey` is the library's
-- stored credential (public key, signature counter), sealed.
CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    passkey       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
) STRICT;
CREATE INDEX passkeys_account ON passkeys(account_id);
