#pragma once
// SQLite behind the storage boundary (storage/database.hpp): a thin RAII layer over its C API.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "broker/storage/database.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace tocsin::sqlite {

using Failure = db::Failure;
using Statement = db::Statement;

// SQLite's connection (WAL, one writer per file, a 5 s busy timeout).
class Connection : public db::Connection {
 public:
  enum class Mode { read_write, read_only };
  Connection(const std::string& path, Mode mode);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(std::string_view sql) override;
  Statement prepare(std::string_view sql) override;
  std::int64_t changes() override;
  std::int64_t last_insert_id() override;
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// Opens the journal database, sets WAL and applies the schema migrations in order.
void migrate(Connection& db);
int schema_version(Connection& db);

}  // namespace tocsin::sqlite
