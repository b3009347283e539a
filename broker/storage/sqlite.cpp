#include "broker/storage/sqlite.hpp"

#include <sqlite3.h>

namespace tocsin::sqlite {

namespace {
[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  throw Failure(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), rc);
}
}  // namespace

Connection::Connection(const std::string& path, Mode mode) {
  int flags =
      SQLITE_OPEN_NOMUTEX |
      (mode == Mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw Failure("cannot open " + path + ": " + msg, rc);
  }
  sqlite3_busy_timeout(db_, 5000);
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  sqlite3_close_v2(db_);
}

void Connection::exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw Failure(msg, rc);
  }
}

namespace {

class SqliteStatement : public db::Statement::Impl {
 public:
  SqliteStatement(sqlite3* db, std::string_view sql) : db_(db) {
    int rc = sqlite3_prepare_v3(db, sql.data(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                                nullptr);
    if (rc != SQLITE_OK) fail(db, rc, "prepare");
  }
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }

  void bind(int i, std::string_view text) override {
    check(sqlite3_bind_text(stmt_, i, text.data(), int(text.size()), SQLITE_TRANSIENT));
  }
  void bind(int i, std::int64_t v) override { check(sqlite3_bind_int64(stmt_, i, v)); }
  void bind(int i, double v) override { check(sqlite3_bind_double(stmt_, i, v)); }
  void bind_null(int i) override { check(sqlite3_bind_null(stmt_, i)); }
  bool step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(stmt_);
    fail(db_, rc, "step");
  }
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int c) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, c))
             : std::string();
  }
  std::int64_t integer(int c) const override { return sqlite3_column_int64(stmt_, c); }
  bool is_null(int c) const override { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, rc, "bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

Statement Connection::prepare(std::string_view sql) {
  return Statement(std::make_unique<SqliteStatement>(db_, sql));
}

std::int64_t Connection::changes() {
  return sqlite3_changes64(db_);
}

std::int64_t Connection::last_insert_id() {
  return sqlite3_last_insert_rowid(db_);
}

namespace {

// Each entry moves the schema from version i to i + 1. Never edit one that has shipped.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  dedup_key TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'resolved', 'cancelled')),
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  severity TEXT NOT NULL,
  urgency TEXT NOT NULL,
  certainty TEXT NOT NULL,
  headline TEXT NOT NULL,
  description TEXT NOT NULL,
  location TEXT,             -- JSON object, NULL when none
  attributes TEXT NOT NULL,  -- JSON object
  occurred_at INTEGER NOT NULL,  -- unix milliseconds
  received_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  updates INTEGER NOT NULL DEFAULT 0,
  node_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX incidents_active_dedup ON incidents (dedup_key) WHERE state = 'active';
CREATE INDEX incidents_state_updated ON incidents (state, updated_at);
CREATE TABLE incident_events (
  seq INTEGER PRIMARY KEY,  -- rowid: increasing, as rows are never deleted
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,   -- created | updated
  actor TEXT NOT NULL,  -- who: the reporting source, or a person
  body TEXT NOT NULL    -- JSON: the report as received
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, seq);
)sql",
    R"sql(
ALTER TABLE incidents ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT;
CREATE TABLE playbook_runs (
  id TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  playbook_id TEXT NOT NULL,
  playbook_hash TEXT NOT NULL,
  playbook_text TEXT NOT NULL,  -- the version the run started with, kept to the end
  status TEXT NOT NULL,
  step INTEGER NOT NULL,
  due_at INTEGER,               -- unix ms; its timer is re-armed at start-up
  state TEXT NOT NULL,          -- JSON: the engine's RunState
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (incident_id, playbook_id)
) WITHOUT ROWID;
CREATE INDEX playbook_runs_open ON playbook_runs (incident_id)
  WHERE status NOT IN ('completed', 'cancelled', 'rejected');
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  run_id TEXT NOT NULL REFERENCES playbook_runs (id),
  playbook_id TEXT NOT NULL,
  step INTEGER NOT NULL,
  kind TEXT NOT NULL,      -- notify | siren | escalation
  audience TEXT NOT NULL,  -- JSON
  channels TEXT NOT NULL,  -- JSON array
  template TEXT NOT NULL,
  public INTEGER NOT NULL,
  zones TEXT NOT NULL,     -- JSON array (sirens)
  pattern TEXT NOT NULL,
  duration_s INTEGER NOT NULL,
  status TEXT NOT NULL,    -- pending, until the dispatcher takes it
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX alerts_incident ON alerts (incident_id, created_at);
CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES playbook_runs (id),
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  playbook_id TEXT NOT NULL,
  step INTEGER NOT NULL,
  role TEXT NOT NULL,
  required INTEGER NOT NULL,
  distinct_from_initiator INTEGER NOT NULL,
  initiator TEXT NOT NULL,
  status TEXT NOT NULL,  -- pending | approved | rejected | expired | cancelled
  due_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  closed_at INTEGER
) WITHOUT ROWID;
CREATE INDEX approvals_status ON approvals (status, created_at);
CREATE TABLE approval_votes (
  approval_id TEXT NOT NULL REFERENCES approvals (id),
  person TEXT NOT NULL,
  decision TEXT NOT NULL,  -- approve | reject
  at INTEGER NOT NULL,
  PRIMARY KEY (approval_id, person)
) WITHOUT ROWID;
)sql",
    R"sql(
CREATE TABLE alert_messages (
  alert_id TEXT NOT NULL REFERENCES alerts (id),
  channel TEXT NOT NULL,
  language TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,      -- the text as rendered when the alert was dispatched
  html TEXT NOT NULL,
  PRIMARY KEY (alert_id, channel, language)
) WITHOUT ROWID;
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,     -- also the idempotency key of every attempt
  alert_id TEXT NOT NULL REFERENCES alerts (id),
  incident_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  recipient TEXT NOT NULL, -- person id, controller id, "public"
  address TEXT NOT NULL,
  language TEXT NOT NULL,
  state TEXT NOT NULL,     -- queued | sending | sent | delivered | failed
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  provider_ref TEXT NOT NULL,
  fallback_of TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX deliveries_alert ON deliveries (alert_id, state);
CREATE INDEX deliveries_unfinished ON deliveries (state) WHERE state IN ('queued', 'sending');
CREATE INDEX deliveries_provider_ref ON deliveries (provider_ref) WHERE provider_ref != '';
)sql",
    R"sql(
ALTER TABLE incidents ADD COLUMN status TEXT NOT NULL DEFAULT 'actual';  -- CAP: actual, exercise…
ALTER TABLE alerts ADD COLUMN cap_status TEXT NOT NULL DEFAULT 'actual';  -- its incident's
ALTER TABLE alerts ADD COLUMN allow_in_exercise INTEGER NOT NULL DEFAULT 0;
)sql",
    R"sql(
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,  -- 1, 2, 3…: a gap is a deleted row
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,      -- a person, a token, or a component (journal, cli)
  action TEXT NOT NULL,     -- silence.create, incident.ack…
  subject TEXT NOT NULL,    -- the id acted on
  detail TEXT NOT NULL,     -- JSON
  prev_hash TEXT NOT NULL,  -- the hash of row seq - 1 ('' for the first)
  hash TEXT NOT NULL        -- SHA-256 over prev_hash and this row's fields
);
CREATE TABLE silences (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,     -- glob; '' any
  type TEXT NOT NULL,       -- glob; '' any
  zone TEXT NOT NULL,       -- zone id; '' any
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  author TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expired_at INTEGER,       -- ended early
  expired_by TEXT
) WITHOUT ROWID;
CREATE INDEX silences_ends ON silences (ends_at);
ALTER TABLE incidents ADD COLUMN silenced_by TEXT;            -- the window that kept runs off
ALTER TABLE incidents ADD COLUMN folded INTEGER NOT NULL DEFAULT 0;  -- reports folded by storm control
CREATE INDEX incidents_active_source ON incidents (source, created_at) WHERE state = 'active';
CREATE INDEX incidents_active_type ON incidents (type, created_at) WHERE state = 'active';
ALTER TABLE playbook_runs ADD COLUMN group_key TEXT;          -- group_by: the group's value
CREATE INDEX playbook_runs_group ON playbook_runs (playbook_id, group_key)
  WHERE group_key IS NOT NULL AND status NOT IN ('completed', 'cancelled', 'rejected');
CREATE TABLE run_members (  -- the incidents a grouped run speaks for (its own included)
  run_id TEXT NOT NULL REFERENCES playbook_runs (id),
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, incident_id)
) WITHOUT ROWID;
CREATE INDEX run_members_incident ON run_members (incident_id);
ALTER TABLE alerts ADD COLUMN grouped TEXT NOT NULL DEFAULT '[]';  -- JSON: the group's incidents
ALTER TABLE alerts ADD COLUMN expires_s INTEGER NOT NULL DEFAULT 0;  -- public: stands this long
ALTER TABLE alerts ADD COLUMN approved TEXT;    -- JSON Reach: what its approval approved
ALTER TABLE alerts ADD COLUMN problems TEXT NOT NULL DEFAULT '[]';  -- why it was blocked
ALTER TABLE approvals ADD COLUMN preview TEXT NOT NULL DEFAULT '[]';  -- JSON [Reach], per public step
)sql",
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,          -- the login name; a person id of config/people.yaml to approve
  role TEXT NOT NULL,           -- viewer | operator | approver | admin
  password_hash TEXT NOT NULL,  -- argon2id (libsodium crypto_pwhash_str)
  language TEXT NOT NULL,       -- fr | en: the console's language
  created_at INTEGER NOT NULL,
  disabled_at INTEGER
) WITHOUT ROWID;
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,  -- SHA-256 of the cookie's value: the value itself is not stored
  user_id TEXT NOT NULL REFERENCES users (id),
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ended_at INTEGER              -- logged out
) WITHOUT ROWID;
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,  -- SHA-256 of the token: shown once, never stored
  scopes TEXT NOT NULL,             -- JSON array: read, ingest, operate, approve, admin
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoked_by TEXT
) WITHOUT ROWID;
ALTER TABLE alerts ADD COLUMN follow_up_of TEXT;  -- a cancel or correction of this public alert
ALTER TABLE alerts ADD COLUMN note TEXT NOT NULL DEFAULT '';
)sql",
    // 6 to 7: a correction in each language's own words.
    R"sql(
ALTER TABLE alerts ADD COLUMN notes TEXT NOT NULL DEFAULT '{}';  -- JSON {"fr": …, "en": …}
)sql",
    // 7 to 8: reports are acknowledged before their playbooks run; the cursor says up to which
    // incident event they have run (every report before it was handled in its own transaction).
    R"sql(
CREATE TABLE run_cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL  -- incident_events.seq: every report up to it has run its playbooks
);
INSERT INTO run_cursor (id, seq) VALUES (1, coalesce((SELECT max(seq) FROM incident_events), 0));
)sql",
    // 8 to 9: a playbook version's text kept once, not with each of its runs (a storm makes
    // thousands of runs of one version).
    R"sql(
CREATE TABLE playbook_versions (
  hash TEXT PRIMARY KEY,  -- the playbook's hash, as playbook_runs.playbook_hash
  text TEXT NOT NULL      -- its YAML, as the runs of that version started with it
) WITHOUT ROWID;
INSERT OR IGNORE INTO playbook_versions (hash, text)
  SELECT playbook_hash, playbook_text FROM playbook_runs WHERE playbook_text != '';
)sql",
    // 9 to 10: two people release a public alert, or one on break glass who writes why.
    R"sql(
ALTER TABLE approvals ADD COLUMN break_glass INTEGER NOT NULL DEFAULT 0;  -- one approver releases it
ALTER TABLE approval_votes ADD COLUMN note TEXT NOT NULL DEFAULT '';      -- the voter's reason
ALTER TABLE api_tokens ADD COLUMN person TEXT;  -- the person it acts for (token add --for), if any
ALTER TABLE api_tokens ADD COLUMN sources TEXT;  -- JSON globs an ingest token reports as; NULL: any
-- A correction of a public alert waits for a second person as a run's public step does.
ALTER TABLE approvals ADD COLUMN kind TEXT NOT NULL DEFAULT 'step';  -- step | correction
ALTER TABLE approvals ADD COLUMN correction TEXT;  -- JSON {alert, note, notes, by, via}
ALTER TABLE approvals ADD COLUMN corrects TEXT;    -- a correction's: the public alert it corrects
-- The audit chain keyed (HMAC-SHA256 under a key outside the database) from here on.
ALTER TABLE audit ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0;
)sql",
    // 10 to 11: on-call overrides made in the console or through the API.
    R"sql(
CREATE TABLE schedule_overrides (
  id TEXT PRIMARY KEY,
  schedule TEXT NOT NULL,     -- a schedule id of schedules.yaml
  person TEXT NOT NULL,       -- who covers
  instead_of TEXT NOT NULL,   -- whom they replace; '' in addition
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  author TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  cancelled_at INTEGER,
  cancelled_by TEXT
) WITHOUT ROWID;
CREATE INDEX schedule_overrides_ends ON schedule_overrides (ends_at);
)sql",
    // 11 to 12: the numbers staff reply with by SMS (1A): one per person and incident.
    R"sql(
CREATE TABLE reply_codes (
  person TEXT NOT NULL,
  incident_id TEXT NOT NULL,
  number INTEGER NOT NULL,   -- 1 to 99: the smallest not held by the person's active incidents
  created_at INTEGER NOT NULL,
  PRIMARY KEY (person, incident_id)
) WITHOUT ROWID;
CREATE INDEX reply_codes_number ON reply_codes (person, number, created_at);
)sql",
    // 12 to 13: the residents the city reaches (broker/residents/registry.cpp). Contacts and
    // places are sealed (residents.key_file, outside the database); a contact is found by its
    // keyed blind index; the zones a resident's places fall in are kept to find them by area.
    R"sql(
CREATE TABLE residents (
  id TEXT PRIMARY KEY,            -- ULID; deliveries name them "resident:" and this
  language TEXT NOT NULL,         -- fr | en
  categories TEXT NOT NULL,       -- space-separated, as chosen ('' none)
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE resident_contacts (
  resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,             -- phone (E.164) | email
  sealed TEXT NOT NULL,           -- XChaCha20-Poly1305, base64: never the contact in clear
  blind TEXT NOT NULL,            -- keyed BLAKE2b of the contact: STOP and duplicates find it
  confirmed_at INTEGER,           -- NULL: nothing but a confirmation is ever sent to it
  stopped_at INTEGER,             -- STOP: nothing is sent to it until START
  PRIMARY KEY (resident_id, kind)
) WITHOUT ROWID;
CREATE UNIQUE INDEX resident_contacts_blind ON resident_contacts (kind, blind);
CREATE TABLE resident_places (
  resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
  n INTEGER NOT NULL,
  sealed TEXT NOT NULL,           -- {"label", "lat", "lon"}, sealed
  PRIMARY KEY (resident_id, n)
) WITHOUT ROWID;
CREATE TABLE resident_zones (
  zone TEXT NOT NULL,
  resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
  PRIMARY KEY (zone, resident_id)
) WITHOUT ROWID;
CREATE INDEX resident_zones_resident ON resident_zones (resident_id);
)sql",
    // 13 to 14: residents' own pages. The city's civic addresses (public data, searched by
    // `search`, the address's words without accents); the codes and links that confirm a contact
    // or open a subscription (their secrets only as keyed hashes); the sends, for rate limits.
    R"sql(
CREATE TABLE civic_addresses (
  id TEXT PRIMARY KEY,
  number TEXT NOT NULL,
  street TEXT NOT NULL,
  municipality TEXT NOT NULL,
  postal_code TEXT NOT NULL,
  lat REAL NOT NULL,
  lon REAL NOT NULL,
  search TEXT NOT NULL            -- " 1234 boulevard saint laurent montreal h2x 2s6 "
) WITHOUT ROWID;
CREATE TABLE resident_codes (
  id TEXT PRIMARY KEY,            -- ULID: in the confirmation page's address
  resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,             -- phone (a 6-digit code by SMS) | email (a link)
  secret TEXT NOT NULL,           -- keyed hash of the code or of the link's token
  expires_at INTEGER NOT NULL,
  tries INTEGER NOT NULL DEFAULT 0,
  used_at INTEGER
) WITHOUT ROWID;
CREATE INDEX resident_codes_resident ON resident_codes (resident_id);
CREATE TABLE resident_sends (
  blind TEXT NOT NULL,            -- the contact's blind index ('' for the day's total)
  sent_at INTEGER NOT NULL
);
CREATE INDEX resident_sends_blind ON resident_sends (blind, sent_at);
)sql",
};

}  // namespace

int schema_version(Connection& db) {
  auto st = db.prepare("PRAGMA user_version");
  st.step();
  return int(st.integer(0));
}

void migrate(Connection& db) {
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA foreign_keys = ON");
  int version = schema_version(db);
  const int latest = int(std::size(kMigrations));
  if (version > latest)
    throw Failure("the database schema is version " + std::to_string(version) +
                      ", newer than this tocsin knows (" + std::to_string(latest) + ")",
                  0);
  for (; version < latest; ++version) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(kMigrations[version]);
      db.exec("PRAGMA user_version = " + std::to_string(version + 1));
      db.exec("COMMIT");
    } catch (...) {
      db.exec("ROLLBACK");
      throw;
    }
  }
}

}  // namespace tocsin::sqlite
