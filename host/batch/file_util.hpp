// File helpers for results that must survive a killed pyhost.
#pragma once

#include "batch/job_result.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace pyhost::batch {

// Replaces `path` with `content` so that readers (and a crash at any moment) see either the old
// or the new file, never a torn one: temp file in the same directory, fsync, rename, fsync dir.
// Throws std::system_error.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

// The last `max_bytes` of a file (all of it when smaller); empty when it does not exist.
OutputTail read_tail(const std::filesystem::path& path, size_t max_bytes);

// Whole file; throws std::system_error when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace pyhost::batch
