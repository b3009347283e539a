#include "playbooks/playbook.hpp"

#include <cstdio>

namespace tocsin::playbooks {

namespace {
int compare(const AttributeValue& a, const AttributeValue& b, bool& comparable) {
  comparable = a.index() == b.index();
  if (!comparable) return 0;
  if (auto* x = std::get_if<double>(&a)) {
    double y = std::get<double>(b);
    return *x < y ? -1 : *x > y ? 1 : 0;
  }
  if (auto* x = std::get_if<std::string>(&a)) return x->compare(std::get<std::string>(b));
  return int(std::get<bool>(a)) - int(std::get<bool>(b));
}
}  // namespace

bool AttributeCondition::holds(const Attributes& attributes) const {
  auto it = attributes.find(name);
  if (op == "exists") return (it != attributes.end()) == exists;
  if (it == attributes.end()) return false;  // a missing attribute satisfies no comparison
  const AttributeValue& v = it->second;
  bool comparable = false;
  if (op == "in") {
    for (const auto& candidate : values)
      if (compare(v, candidate, comparable) == 0 && comparable) return true;
    return false;
  }
  int c = compare(v, values.front(), comparable);
  if (!comparable) return op == "!=";
  if (op == "==") return c == 0;
  if (op == "!=") return c != 0;
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  if (op == ">=") return c >= 0;
  return false;
}

std::string Step::kind() const {
  static const char* names[] = {"notify", "wait", "siren", "require_approval", "resolve_when"};
  return names[action.index()];
}

bool Step::reaches_public() const {
  if (const auto* n = std::get_if<Notify>(&action)) return n->is_public;
  return std::holds_alternative<Siren>(action);
}

std::vector<std::size_t> gated_public_steps(const Playbook& p, std::size_t approval_step) {
  std::vector<std::size_t> out;
  for (std::size_t i = approval_step + 1; i < p.steps.size(); ++i) {
    if (std::holds_alternative<RequireApproval>(p.steps[i].action)) break;
    if (p.steps[i].reaches_public()) out.push_back(i);
  }
  return out;
}

bool Step::break_glass() const {
  if (const auto* n = std::get_if<Notify>(&action)) return n->break_glass;
  if (const auto* s = std::get_if<Siren>(&action)) return s->break_glass;
  return false;
}

bool glob_match(std::string_view p, std::string_view t) {
  // Iterative * matching (no other metacharacters): linear in practice.
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && p[pi] == t[ti]) {
      ++pi;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::string content_hash(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace tocsin::playbooks
