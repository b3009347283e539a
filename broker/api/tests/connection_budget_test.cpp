// The HTTP server's connection budget: per address, overall, and slots given back.
#include <catch2/catch.hpp>

#include <vector>

#include "broker/api/connection_budget.hpp"

using namespace tocsin;

TEST_CASE("connections are budgeted per address and overall, and each slot is given back") {
  ConnectionBudget budget({.total = 5, .per_address = 2});
  ConnectionBudget::Over over;
  std::vector<ConnectionBudget::Slot> held;
  held.push_back(budget.take("192.0.2.1", over));
  held.push_back(budget.take("192.0.2.1", over));
  REQUIRE(held.back());
  // A third from the same address is over its share; another address still gets in.
  CHECK_FALSE(budget.take("192.0.2.1", over));
  CHECK(over == ConnectionBudget::Over::address);
  held.push_back(budget.take("192.0.2.2", over));
  held.push_back(budget.take("192.0.2.3", over));
  held.push_back(budget.take("192.0.2.4", over));
  REQUIRE(held.back());
  CHECK(over == ConnectionBudget::Over::none);
  // Five open: the next is over the total, whoever it is.
  CHECK_FALSE(budget.take("192.0.2.5", over));
  CHECK(over == ConnectionBudget::Over::total);
  CHECK(budget.open() == 5);
  // A slot passed on (a WebSocket) is held until its last copy goes.
  auto passed_on = held.front();
  held.erase(held.begin());
  CHECK(budget.open() == 5);
  passed_on.reset();
  CHECK(budget.open() == 4);
  CHECK(budget.open_from("192.0.2.1") == 1);
  CHECK(budget.take("192.0.2.1", over));  // taken and given back at once
  held.clear();
  CHECK(budget.open() == 0);
  CHECK(budget.open_from("192.0.2.1") == 0);
}
