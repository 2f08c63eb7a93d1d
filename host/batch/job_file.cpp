#include "batch/job_file.hpp"

#include "batch/job_graph.hpp"
#include "pyhost/modes.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

namespace pyhost::batch {

namespace fs = std::filesystem;

std::string Diagnostic::str() const {
  if (line > 0) return fmt::format("{}:{}: error: {}", file, line, message);
  return fmt::format("{}: error: {}", file, message);
}

static std::string join_messages(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) out += '\n';
    out += d.str();
  }
  return out;
}

JobFileError::JobFileError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_messages(diagnostics)), diagnostics_(std::move(diagnostics)) {}

const JobSpec* JobFile::find(std::string_view name) const {
  for (const auto& job : jobs)
    if (job.name == name) return &job;
  return nullptr;
}

namespace {

constexpr std::array<std::string_view, 17> kJobKeys = {
    "name",    "script", "module",  "code",  "args", "env",   "cwd",  "needs",  "retries",
    "timeout", "mode",   "workers", "tasks", "tags", "ranks", "host", "sandbox"};
// Keys of a job's sandbox table (docs/sandbox.md); the limits as --sandbox-limit names them.
constexpr std::array<std::string_view, 10> kSandboxKeys = {
    "net",   "read",         "write",      "reuse_workers", "best_effort",
    "cpu_s", "file_size_mb", "open_files", "procs",         "tmp_mb"};
constexpr double kMaxTimeout = 1e7;  // ~4 months; keeps deadlines far from clock overflow

int line_of(const toml::source_region& region) {
  return static_cast<int>(region.begin.line);
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

template <typename Range>
std::string suggestion(std::string_view word, const Range& candidates) {
  for (std::string_view c : candidates)
    if (edit_distance(word, c) <= 2) return fmt::format(" (did you mean '{}'?)", c);
  return "";
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

template <typename T>
struct Field {
  std::optional<T> value;
  int line = 0;
  explicit operator bool() const { return value.has_value(); }
};

// One table's keys, before [defaults] are applied.
struct Partial {
  int line = 0;
  Field<std::string> name, script, module, code, cwd, mode, host;
  Field<std::vector<std::string>> args, needs, tags;
  Field<std::map<std::string, std::string>> env;
  Field<int64_t> retries, workers, tasks, ranks;
  Field<double> timeout;
  Field<SandboxPolicy> sandbox;
  std::map<std::string, int> need_lines;

  bool has_target() const { return script || module || code; }
};

class Parser {
 public:
  Parser(std::string file, fs::path base_dir, std::vector<Diagnostic>& diagnostics)
      : file_(std::move(file)), base_dir_(std::move(base_dir)), diagnostics_(diagnostics) {}

  std::vector<JobSpec> parse(const toml::table& root) {
    Partial defaults;
    const toml::array* jobs = nullptr;
    for (const auto& [key, node] : root) {
      if (key.str() == "defaults") {
        if (const auto* table = node.as_table())
          defaults = read_table(*table, "[defaults]", /*is_defaults=*/true);
        else
          error(line_of(key.source()),
                fmt::format("'defaults' must be a table, not {}", type_name(node)));
      } else if (key.str() == "job") {
        jobs = node.as_array();
        if (!jobs)
          error(line_of(key.source()),
                fmt::format("'job' must be an array of tables ([[job]]), not {}", type_name(node)));
      } else {
        std::array<std::string_view, 2> top = {"job", "defaults"};
        error(line_of(key.source()),
              fmt::format("unknown top-level key '{}'{}", key.str(), suggestion(key.str(), top)));
      }
    }
    std::vector<JobSpec> specs;
    if (!jobs) {
      if (diagnostics_.empty()) error(0, "no jobs: add at least one [[job]] table");
      return specs;
    }
    std::map<std::string, int, std::less<>> first_line;
    for (size_t i = 0; i < jobs->size(); ++i) {
      const toml::node& node = *jobs->get(i);
      const auto* table = node.as_table();
      if (!table) {
        error(line_of(node.source()),
              fmt::format("each 'job' entry must be a table, not {}", type_name(node)));
        continue;
      }
      const size_t errors_before = diagnostics_.size();
      Partial job = read_table(*table, fmt::format("job #{}", i + 1), /*is_defaults=*/false);
      if (diagnostics_.size() != errors_before) continue;  // no follow-up errors
      if (!job.name) {
        error(job.line, fmt::format("job #{} has no 'name'", i + 1));
        continue;
      }
      auto [it, inserted] = first_line.emplace(*job.name.value, job.name.line);
      if (!inserted) {
        error(job.name.line, fmt::format("duplicate job name '{}' (first defined at line {})",
                                         *job.name.value, it->second));
        continue;
      }
      if (auto spec = finish(defaults, job)) specs.push_back(std::move(*spec));
    }
    return specs;
  }

 private:
  void error(int line, std::string message) {
    diagnostics_.push_back({file_, line, std::move(message)});
  }

  void wrong_type(int line, std::string_view where, std::string_view key, std::string_view want,
                  const toml::node& node) {
    error(line, fmt::format("{}: '{}' must be {}, not {}", where, key, want, type_name(node)));
  }

  std::optional<std::vector<std::string>> string_array(const toml::node& node, int line,
                                                       std::string_view where, std::string_view key,
                                                       std::map<std::string, int>* lines) {
    const auto* array = node.as_array();
    if (!array) {
      wrong_type(line, where, key, "an array of strings", node);
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& item : *array) {
      if (const auto* s = item.as_string()) {
        out.push_back(s->get());
        if (lines) lines->emplace(s->get(), line_of(item.source()));
      } else {
        error(line_of(item.source()), fmt::format("{}: every item of '{}' must be a string, not {}",
                                                  where, key, type_name(item)));
        ok = false;
      }
    }
    return ok ? std::optional(std::move(out)) : std::nullopt;
  }

  Partial read_table(const toml::table& table, std::string where, bool is_defaults) {
    Partial p;
    p.line = line_of(table.source());
    // Read the name first so that later messages can use it.
    if (!is_defaults) {
      if (const toml::node* node = table.get("name")) {
        int line = line_of(node->source());
        if (const auto* s = node->as_string()) {
          if (valid_name(s->get())) {
            p.name = {s->get(), line};
            where = fmt::format("job '{}'", s->get());
          } else {
            error(line, fmt::format("{}: invalid name '{}': use letters, digits, '_', '-' and "
                                    "'.', not starting with '.' or '-'",
                                    where, s->get()));
          }
        } else {
          wrong_type(line, where, "name", "a string", *node);
        }
      }
    }
    for (const auto& [key, node] : table) {
      const std::string k(key.str());
      int line = line_of(key.source());
      if (std::find(kJobKeys.begin(), kJobKeys.end(), k) == kJobKeys.end()) {
        error(line, fmt::format("{}: unknown key '{}'{}", where, k, suggestion(k, kJobKeys)));
        continue;
      }
      if (k == "name") {
        if (is_defaults) error(line, "[defaults]: 'name' cannot be set in [defaults]");
        continue;  // read above
      }
      if (k == "needs" && is_defaults) {
        error(line, "[defaults]: 'needs' cannot be set in [defaults]");
        continue;
      }
      read_key(p, k, node, line, where);
    }
    int targets = !!p.script + !!p.module + !!p.code;
    if (targets > 1)
      error(p.line, fmt::format("{}: set only one of 'script', 'module' and 'code'", where));
    return p;
  }

  void read_string(Field<std::string>& field, const toml::node& node, int line,
                   std::string_view where, std::string_view key) {
    if (const auto* s = node.as_string()) {
      if (s->get().empty())
        error(line, fmt::format("{}: '{}' must not be empty", where, key));
      else
        field = {s->get(), line};
    } else {
      wrong_type(line, where, key, "a string", node);
    }
  }

  void read_int(Field<int64_t>& field, const toml::node& node, int line, std::string_view where,
                std::string_view key, int64_t min, int64_t max) {
    const auto* i = node.as_integer();
    if (!i) return wrong_type(line, where, key, "an integer", node);
    if (i->get() < min || i->get() > max)
      return error(line, fmt::format("{}: '{}' must be between {} and {} (got {})", where, key, min,
                                     max, i->get()));
    field = {i->get(), line};
  }

  void read_key(Partial& p, const std::string& k, const toml::node& node, int line,
                std::string_view where) {
    if (k == "script") {
      read_string(p.script, node, line, where, k);
    } else if (k == "module") {
      read_string(p.module, node, line, where, k);
    } else if (k == "code") {
      read_string(p.code, node, line, where, k);
    } else if (k == "cwd") {
      read_string(p.cwd, node, line, where, k);
    } else if (k == "host") {
      read_string(p.host, node, line, where, k);
    } else if (k == "ranks") {
      read_int(p.ranks, node, line, where, k, 1, 4096);
    } else if (k == "mode") {
      read_string(p.mode, node, line, where, k);
      if (p.mode && !find_mode(*p.mode.value)) {
        error(line, fmt::format("{}: 'mode' must be one of {} (got '{}')", where, mode_names(),
                                *p.mode.value));
        p.mode = {};
      }
    } else if (k == "args") {
      if (auto v = string_array(node, line, where, k, nullptr)) p.args = {std::move(*v), line};
    } else if (k == "tags") {
      if (auto v = string_array(node, line, where, k, nullptr)) p.tags = {std::move(*v), line};
    } else if (k == "needs") {
      if (auto v = string_array(node, line, where, k, &p.need_lines))
        p.needs = {std::move(*v), line};
    } else if (k == "env") {
      const auto* table = node.as_table();
      if (!table) return wrong_type(line, where, k, "a table of strings", node);
      std::map<std::string, std::string> env;
      for (const auto& [name, value] : *table) {
        if (const auto* s = value.as_string())
          env[std::string(name.str())] = s->get();
        else
          error(line_of(name.source()),
                fmt::format("{}: env value '{}' must be a string, not {} (quote it)", where,
                            name.str(), type_name(value)));
      }
      p.env = {std::move(env), line};
    } else if (k == "sandbox") {
      read_sandbox(p, node, line, where);
    } else if (k == "retries") {
      read_int(p.retries, node, line, where, k, 0, 100);
    } else if (k == "workers") {
      read_int(p.workers, node, line, where, k, 1, 4096);
    } else if (k == "tasks") {
      read_int(p.tasks, node, line, where, k, 1, 1'000'000);
    } else if (k == "timeout") {
      std::optional<double> seconds;
      if (const auto* i = node.as_integer()) seconds = static_cast<double>(i->get());
      if (const auto* f = node.as_floating_point()) seconds = f->get();
      if (!seconds) return wrong_type(line, where, k, "a number of seconds", node);
      if (!(*seconds > 0) || *seconds > kMaxTimeout)  // NaN fails the first test
        return error(line, fmt::format("{}: 'timeout' must be a positive number of seconds, at "
                                       "most {:g}",
                                       where, kMaxTimeout));
      p.timeout = {*seconds, line};
    }
  }

  // `sandbox = true | false` or a table of kSandboxKeys; read/write relative to the job file.
  void read_sandbox(Partial& p, const toml::node& node, int line, std::string_view where) {
    SandboxPolicy policy;
    if (const auto* flag = node.as_boolean()) {
      policy.enabled = flag->get();
      p.sandbox = {policy, line};
      return;
    }
    const auto* table = node.as_table();
    if (!table) return wrong_type(line, where, "sandbox", "a boolean or a table", node);
    policy.enabled = true;
    bool ok = true;
    for (const auto& [key, value] : *table) {
      const std::string k(key.str());
      const int at = line_of(key.source());
      const std::string name = "sandbox." + k;
      if (std::find(kSandboxKeys.begin(), kSandboxKeys.end(), k) == kSandboxKeys.end()) {
        error(at, fmt::format("{}: unknown key '{}'{}", where, name, suggestion(k, kSandboxKeys)));
        ok = false;
      } else if (k == "net" || k == "reuse_workers" || k == "best_effort") {
        const auto* b = value.as_boolean();
        if (!b) {
          wrong_type(at, where, name, "a boolean", value);
          ok = false;
          continue;
        }
        (k == "net"             ? policy.net
         : k == "reuse_workers" ? policy.reuse_workers
                                : policy.best_effort) = b->get();
      } else if (k == "read" || k == "write") {
        auto paths = string_array(value, at, where, name, nullptr);
        if (!paths) {
          ok = false;
          continue;
        }
        for (auto& path : *paths) path = (base_dir_ / path).lexically_normal().string();
        (k == "read" ? policy.read : policy.write) = std::move(*paths);
      } else {
        const auto* i = value.as_integer();
        if (!i) {
          wrong_type(at, where, name, "an integer", value);
          ok = false;
          continue;
        }
        try {
          policy.set_limit(fmt::format("{}={}", k, i->get()));
        } catch (const std::invalid_argument& why) {
          error(at, fmt::format("{}: sandbox: {}", where, why.what()));
          ok = false;
        }
      }
    }
    if (ok) p.sandbox = {std::move(policy), line};
  }

  // Applies [defaults] to one job and resolves its paths.
  std::optional<JobSpec> finish(const Partial& d, const Partial& j) {
    auto pick = [](const auto& job_field, const auto& default_field) {
      return job_field ? job_field : default_field;
    };
    JobSpec spec;
    spec.name = *j.name.value;
    spec.line = j.line;
    const std::string where = fmt::format("job '{}'", spec.name);
    bool ok = true;

    // The target is one group: a job naming any of script/module/code ignores the defaults'.
    const Partial& t = j.has_target() ? j : d;
    if (t.script) {
      spec.kind = TaskTarget::Kind::Script;
      fs::path script = (base_dir_ / *t.script.value).lexically_normal();
      std::error_code ec;
      if (!fs::is_regular_file(script, ec)) {
        error(t.script.line, fmt::format("{}: script '{}' not found ({})", where, *t.script.value,
                                         script.string()));
        ok = false;
      }
      spec.target = script.string();
    } else if (t.module) {
      spec.kind = TaskTarget::Kind::Module;
      spec.target = *t.module.value;
    } else if (t.code) {
      spec.kind = TaskTarget::Kind::Code;
      spec.target = *t.code.value;
    } else {
      error(j.line, fmt::format("{}: set one of 'script', 'module' or 'code'", where));
      ok = false;
    }

    spec.cwd = base_dir_;
    if (auto cwd = pick(j.cwd, d.cwd)) {
      spec.cwd = (base_dir_ / *cwd.value).lexically_normal();
      std::error_code ec;
      if (!fs::is_directory(spec.cwd, ec)) {
        error(cwd.line, fmt::format("{}: cwd '{}' is not a directory ({})", where, *cwd.value,
                                    spec.cwd.string()));
        ok = false;
      }
    }
    if (auto v = pick(j.args, d.args)) spec.args = *v.value;
    if (auto v = pick(j.tags, d.tags)) spec.tags = *v.value;
    if (d.env) spec.env = *d.env.value;
    if (j.env)
      for (const auto& [k, v] : *j.env.value) spec.env[k] = v;
    if (auto v = pick(j.retries, d.retries)) spec.retries = static_cast<int>(*v.value);
    if (auto v = pick(j.timeout, d.timeout)) spec.timeout_s = *v.value;
    if (auto v = pick(j.mode, d.mode)) spec.mode = *v.value;
    if (auto v = pick(j.workers, d.workers)) spec.workers = static_cast<int>(*v.value);
    if (auto v = pick(j.tasks, d.tasks)) spec.tasks = static_cast<int>(*v.value);
    if (auto v = pick(j.sandbox, d.sandbox)) {
      spec.sandbox = *v.value;
      if (spec.sandbox.enabled && spec.mode.value_or("serial") != "processes") {
        error(v.line, fmt::format("{}: 'sandbox' confines worker processes: it needs mode = "
                                  "\"processes\"",
                                  where));
        ok = false;
      }
    }
    if (auto v = pick(j.ranks, d.ranks)) {
      spec.ranks = static_cast<int>(*v.value);
      spec.ranks_line = v.line;
    }
    if (auto v = pick(j.host, d.host)) {
      spec.host = *v.value;
      spec.host_line = v.line;
    }
    if (j.needs) {
      for (const auto& need : *j.needs.value)
        if (std::find(spec.needs.begin(), spec.needs.end(), need) == spec.needs.end())
          spec.needs.push_back(need);
      spec.need_lines = j.need_lines;
    }
    if (!ok) return std::nullopt;
    return spec;
  }

  std::string file_;
  fs::path base_dir_;
  std::vector<Diagnostic>& diagnostics_;
};

}  // namespace

JobFile parse_job_file(std::string_view text, const std::string& display_path,
                       const fs::path& base_dir) {
  std::vector<Diagnostic> diagnostics;
  toml::table root;
  try {
    root = toml::parse(text, display_path);
  } catch (const toml::parse_error& e) {
    diagnostics.push_back(
        {display_path, line_of(e.source()), fmt::format("invalid TOML: {}", e.description())});
    throw JobFileError(std::move(diagnostics));
  }
  JobFile file;
  file.display_path = display_path;
  file.dir = fs::absolute(base_dir).lexically_normal();
  file.jobs = Parser(display_path, file.dir, diagnostics).parse(root);
  if (!diagnostics.empty()) {
    // toml++ walks tables in key order; report in file order.
    std::stable_sort(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    throw JobFileError(std::move(diagnostics));
  }
  return file;
}

void check_placement(const JobFile& file, const std::vector<std::string>* rank_hosts) {
  std::vector<Diagnostic> diagnostics;
  auto error = [&](int line, std::string message) {
    diagnostics.push_back({file.display_path, line, std::move(message)});
  };
  for (const JobSpec& job : file.jobs) {
    const std::string where = fmt::format("job '{}'", job.name);
    if (!rank_hosts) {
      if (job.ranks > 1)
        error(job.ranks_line, fmt::format("{}: 'ranks' needs --engine mpi (without it every job "
                                          "runs on this machine, once)",
                                          where));
      if (!job.host.empty())
        error(job.host_line,
              fmt::format("{}: 'host' needs --engine mpi (without it every job runs on this "
                          "machine)",
                          where));
      continue;
    }
    const int total = static_cast<int>(rank_hosts->size());
    if (job.host.empty()) {
      if (job.ranks > total)
        error(job.ranks_line, fmt::format("{}: 'ranks = {}' but this batch has {} rank{}", where,
                                          job.ranks, total, total == 1 ? "" : "s"));
      continue;
    }
    const int on_host =
        static_cast<int>(std::count(rank_hosts->begin(), rank_hosts->end(), job.host));
    if (on_host == 0) {
      std::vector<std::string> known(rank_hosts->begin(), rank_hosts->end());
      std::sort(known.begin(), known.end());
      known.erase(std::unique(known.begin(), known.end()), known.end());
      error(job.host_line, fmt::format("{}: no rank runs on host '{}' (the ranks' hosts: {})",
                                       where, job.host, fmt::join(known, ", ")));
    } else if (job.ranks > on_host) {
      error(job.ranks_line, fmt::format("{}: 'ranks = {}' but host '{}' has {} rank{}", where,
                                        job.ranks, job.host, on_host, on_host == 1 ? "" : "s"));
    }
  }
  if (!diagnostics.empty()) {
    std::stable_sort(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    throw JobFileError(std::move(diagnostics));
  }
}

JobFile load_job_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!in || fs::is_directory(path, ec))
    throw JobFileError({{path.string(), 0, "cannot read the job file"}});
  std::stringstream text;
  text << in.rdbuf();
  fs::path dir = fs::absolute(path).parent_path();
  JobFile file = parse_job_file(text.str(), path.string(), dir);
  validate_graph(file);
  return file;
}

}  // namespace pyhost::batch
