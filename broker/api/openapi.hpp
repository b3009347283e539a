#pragma once
// The API's OpenAPI 3.1 description: docs/openapi.yaml, built into the binary and served as JSON
// at GET /api/v1/openapi.json. Tests hold it and the route table (Api::route_list) to each other.

#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace tocsin {

// The document as JSON, its info.version the server's; parsed once.
const boost::json::value& openapi_document();
// Its operations, as "METHOD /path/{param}", sorted.
std::vector<std::string> openapi_operations(const boost::json::value& document);

}  // namespace tocsin
