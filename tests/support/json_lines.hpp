#pragma once
// Reads a file of JSON lines (what the fake peers record), each line one object; a missing file
// is no lines yet.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace tocsin::test {

inline std::vector<boost::json::object> read_json_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<boost::json::object> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
  return out;
}

}  // namespace tocsin::test
