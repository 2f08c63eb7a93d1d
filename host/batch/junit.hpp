// JUnit XML for CI systems: one <testcase> per job of a results document.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace pyhost::batch {

// `results`: a document from ResultsFile::document(); `suite`: the suite/class name (the job
// file's stem). failed and timeout jobs become <failure>, crashed ones <error>, skipped ones
// <skipped>; captured output goes to <system-out>/<system-err>.
std::string render_junit(const nlohmann::ordered_json& results, std::string_view suite);

}  // namespace pyhost::batch
