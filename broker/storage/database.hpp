#pragma once
// The storage boundary: a connection to the system of record and its prepared statements. The
// journal's writer holds one (SQLite today: journal/sqlite.hpp; PostgreSQL in a later issue), and
// every part that writes in its transactions — runs, the delivery ledger, accounts, silences, the
// audit chain — is handed a `db::Connection&`, never the engine's own handle. Their SQL keeps to
// what both engines accept: `?N` placeholders (a libpq backend numbers them `$N`),
// `ON CONFLICT … DO NOTHING`, `RETURNING`, no engine's JSON functions. What differs stays in the
// backend: the writer's transaction statements and the incident upsert (journal.cpp), the
// migrations (sqlite.cpp) and the readers (incident_store.cpp).

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tocsin::db {

class Failure : public std::runtime_error {
 public:
  Failure(const std::string& what, int code) : std::runtime_error(what), code(code) {}
  int code;  // the engine's own code (0: ours)
};

// A prepared statement. Binds are 1-based; step() is true while a row is ready.
class Statement {
 public:
  class Impl {
   public:
    virtual ~Impl() = default;
    virtual void bind(int index, std::string_view text) = 0;
    virtual void bind(int index, std::int64_t value) = 0;
    virtual void bind(int index, double value) = 0;
    virtual void bind_null(int index) = 0;
    virtual bool step() = 0;
    virtual void reset() = 0;  // and clears the bindings
    virtual std::string text(int column) const = 0;
    virtual std::int64_t integer(int column) const = 0;
    virtual bool is_null(int column) const = 0;
  };

  explicit Statement(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

  Statement& bind(int index, std::string_view text) {
    impl_->bind(index, text);
    return *this;
  }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, std::int64_t value) {
    impl_->bind(index, value);
    return *this;
  }
  Statement& bind(int index, double value) {
    impl_->bind(index, value);
    return *this;
  }
  Statement& bind_null(int index) {
    impl_->bind_null(index);
    return *this;
  }
  bool step() { return impl_->step(); }
  void run() {  // step to completion, then reset
    while (step()) {
    }
    reset();
  }
  void reset() { impl_->reset(); }
  std::string text(int column) const { return impl_->text(column); }
  std::int64_t integer(int column) const { return impl_->integer(column); }
  bool is_null(int column) const { return impl_->is_null(column); }

 private:
  std::unique_ptr<Impl> impl_;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void exec(std::string_view sql) = 0;
  virtual Statement prepare(std::string_view sql) = 0;
  // Rows the last INSERT, UPDATE or DELETE changed.
  virtual std::int64_t changes() = 0;
  // The key the last INSERT gave its row (an integer primary key).
  virtual std::int64_t last_insert_id() = 0;
};

}  // namespace tocsin::db
