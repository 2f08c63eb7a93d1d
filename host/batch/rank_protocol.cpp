#include "batch/rank_protocol.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace pyhost::batch {

namespace fs = std::filesystem;

std::string encode_message(nlohmann::json header, const std::vector<std::string>& blobs) {
  std::vector<size_t> sizes;
  for (const auto& blob : blobs) sizes.push_back(blob.size());
  header["blobs"] = sizes;
  std::string out = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += '\n';
  for (const auto& blob : blobs) out += blob;
  return out;
}

nlohmann::json decode_message(const std::string& bytes, std::vector<std::string>* blobs) {
  const size_t end = bytes.find('\n');
  if (end == std::string::npos) throw std::runtime_error("batch message without a header");
  nlohmann::json header = nlohmann::json::parse(bytes.substr(0, end));
  size_t at = end + 1;
  if (blobs) blobs->clear();
  for (size_t size : header.value("blobs", std::vector<size_t>{})) {
    if (at + size > bytes.size()) throw std::runtime_error("batch message cut short");
    if (blobs) blobs->push_back(bytes.substr(at, size));
    at += size;
  }
  return header;
}

namespace {

// The command with stdout/stderr/--json moved: the `--json` argument of `pyhost run` is the
// run_json path, so it follows.
AttemptCommand with_files(const AttemptCommand& command, const fs::path& out, const fs::path& err,
                          const fs::path& json) {
  AttemptCommand moved = command;
  moved.launch.stdout_path = out;
  moved.launch.stderr_path = err;
  for (auto& arg : moved.launch.args)
    if (!command.run_json.empty() && arg == command.run_json.string()) arg = json.string();
  moved.run_json = json;
  return moved;
}

fs::path with_suffix(const fs::path& path, const std::string& insert) {
  // a.attempt1.stdout -> a.attempt1.member2.stdout
  return path.parent_path() / (path.stem().string() + insert + path.extension().string());
}

}  // namespace

AttemptCommand member_command(const AttemptCommand& command, int member, int members) {
  AttemptCommand c = command;
  if (member > 0) {
    const std::string insert = fmt::format(".member{}", member);
    c = with_files(command, with_suffix(command.launch.stdout_path, insert),
                   with_suffix(command.launch.stderr_path, insert),
                   command.run_json.empty() ? fs::path() : with_suffix(command.run_json, insert));
  }
  c.launch.env["PYHOST_JOB_RANK"] = std::to_string(member);
  c.launch.env["PYHOST_JOB_RANKS"] = std::to_string(members);
  return c;
}

AttemptCommand relocate_command(const AttemptCommand& command, const fs::path& dir,
                                const std::string& stem) {
  return with_files(command, dir / (stem + ".stdout"), dir / (stem + ".stderr"),
                    command.run_json.empty() ? fs::path() : dir / (stem + ".json"));
}

std::chrono::seconds peer_timeout() {
  const char* text = std::getenv("PYHOST_MPI_PEER_TIMEOUT");
  const int seconds = text ? std::atoi(text) : 0;
  return std::chrono::seconds(seconds > 0 ? seconds : 10);
}

std::string read_shipped(const fs::path& path, size_t max, bool* cut) {
  if (cut) *cut = false;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const auto size = static_cast<size_t>(in.tellg());
  const size_t take = std::min(size, max);
  if (cut) *cut = take < size;
  in.seekg(static_cast<std::streamoff>(size - take));
  std::string data(take, '\0');
  in.read(data.data(), static_cast<std::streamsize>(take));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

}  // namespace pyhost::batch
