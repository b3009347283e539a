#include <catch2/catch.hpp>

#include <set>
#include <thread>
#include <vector>

#include "core/ulid.hpp"

using namespace tocsin;

TEST_CASE("ULIDs are 26 Crockford characters, unique and increasing") {
  UlidGenerator gen;
  std::string prev;
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) {
    std::string id = gen.next();
    REQUIRE(is_ulid(id));
    REQUIRE(id > prev);
    prev = id;
    seen.insert(id);
  }
  CHECK(seen.size() == 20000);
}

TEST_CASE("two generators (two nodes) never collide") {
  UlidGenerator a, b;
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    seen.insert(a.next());
    seen.insert(b.next());
  }
  CHECK(seen.size() == 20000);
}

TEST_CASE("one generator is safe across threads") {
  UlidGenerator gen;
  std::vector<std::vector<std::string>> out(4);
  std::vector<std::thread> threads;
  for (auto& o : out)
    threads.emplace_back([&gen, &o] {
      for (int i = 0; i < 5000; ++i) o.push_back(gen.next());
    });
  for (auto& t : threads) t.join();
  std::set<std::string> seen;
  for (auto& o : out) seen.insert(o.begin(), o.end());
  CHECK(seen.size() == 20000);
}
