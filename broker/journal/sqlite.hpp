#pragma once
// A thin RAII layer over the SQLite C API: a connection and prepared statements.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace tocsin::sqlite {

class Failure : public std::runtime_error {
 public:
  Failure(const std::string& what, int code) : std::runtime_error(what), code(code) {}
  int code;
};

class Statement;

class Connection {
 public:
  enum class Mode { read_write, read_only };
  Connection(const std::string& path, Mode mode);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql);
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based, like SQLite's.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind_null(int index);

  bool step();  // true: a row is ready; false: done
  void run();   // step to completion, then reset
  void reset();

  std::string text(int column) const;
  std::int64_t integer(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Opens the journal database, sets WAL and applies the schema migrations in order.
void migrate(Connection& db);
int schema_version(Connection& db);

}  // namespace tocsin::sqlite
