#pragma once
// This build's version (the project's) and revision (the commit it was configured from), for
// tocsin --version and /metrics' tocsin_build_info. Defined in a file CMake generates
// (build_info.cpp.in), so that a new commit rebuilds that file only.

namespace tocsin {

extern const char* const kVersion;
extern const char* const kRevision;

}  // namespace tocsin
