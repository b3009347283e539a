#pragma once
// The staff directory (config/people.yaml): who has which role and belongs to which group.

#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace tocsin {

struct Person {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::vector<std::string> groups;
  std::string phone;  // E.164
  std::string email;
  std::string language;               // fr | en
  std::vector<std::string> channels;  // preferred, in order

  bool has_role(const std::string& role) const;
};

class Directory {
 public:
  Directory() = default;
  explicit Directory(std::vector<Person> people);
  const Person* find(const std::string& id) const;
  const std::vector<Person>& people() const { return people_; }
  const std::set<std::string>& roles() const { return roles_; }
  const std::set<std::string>& groups() const { return groups_; }

 private:
  std::vector<Person> people_;
  std::map<std::string, std::size_t> index_;
  std::set<std::string> roles_, groups_;
};

struct DirectoryErrors {
  std::vector<std::string> errors;  // file:line:column: message
};

std::variant<Directory, DirectoryErrors> load_directory(const std::string& path);

}  // namespace tocsin
