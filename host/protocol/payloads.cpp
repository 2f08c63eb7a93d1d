// The JSON payloads of the worker protocol (documented in protocol.hpp), in one place.
#include <nlohmann/json.hpp>

#include "protocol/protocol.hpp"

namespace pyhost::proto {
namespace {

template <typename Decode>
auto decode_json(std::string_view payload, const char* what, Decode&& decode) {
  try {
    return decode(nlohmann::json::parse(payload));
  } catch (const nlohmann::json::exception& error) {
    throw ProtocolError(std::string("bad ") + what + " payload: " + error.what());
  }
}

TaskTarget::Kind kind_from(const std::string& kind) {
  if (kind == "script") return TaskTarget::Kind::Script;
  if (kind == "module") return TaskTarget::Kind::Module;
  if (kind == "code") return TaskTarget::Kind::Code;
  throw ProtocolError("bad RunTask payload: unknown kind '" + kind + "'");
}

}  // namespace

std::string encode_payload(const HelloPayload& hello) {
  return nlohmann::json{{"version", kVersion}, {"pid", hello.pid}, {"python", hello.python}}.dump();
}

std::string encode_payload(const RunTaskPayload& task) {
  return nlohmann::json{{"kind", std::string(to_string(task.target.kind))},
                        {"target", task.target.value},
                        {"args", task.target.args},
                        {"worker", task.worker},
                        {"mode", task.mode},
                        {"workers", task.workers},
                        {"tasks", task.tasks},
                        {"timeout_s", task.timeout_s}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string encode_payload(const ResultPayload& result) {
  return nlohmann::json{{"exit_code", result.exit_code}, {"status", to_string(result.status)},
                        {"error", result.error},         {"cpu_s", result.cpu_s},
                        {"runq_s", result.runq_s},       {"peak_rss_kb", result.peak_rss_kb},
                        {"wall_s", result.wall_s},       {"tainted", result.tainted}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HelloPayload decode_hello(std::string_view payload) {
  return decode_json(payload, "Hello", [](const nlohmann::json& doc) {
    HelloPayload hello;
    hello.pid = doc.at("pid").get<long>();
    hello.python = doc.value("python", std::string());
    return hello;
  });
}

RunTaskPayload decode_run_task(std::string_view payload) {
  return decode_json(payload, "RunTask", [](const nlohmann::json& doc) {
    RunTaskPayload task;
    task.target.kind = kind_from(doc.at("kind").get<std::string>());
    task.target.value = doc.at("target").get<std::string>();
    task.target.args = doc.at("args").get<std::vector<std::string>>();
    task.worker = doc.at("worker").get<int>();
    task.mode = doc.at("mode").get<std::string>();
    task.workers = doc.at("workers").get<int>();
    task.tasks = doc.at("tasks").get<int>();
    task.timeout_s = doc.value("timeout_s", 0.0);
    return task;
  });
}

ResultPayload decode_result(std::string_view payload) {
  return decode_json(payload, "Result", [](const nlohmann::json& doc) {
    ResultPayload result;
    result.exit_code = doc.at("exit_code").get<int>();
    const std::string status = doc.value("status", std::string("failed"));
    result.status = task_status_from_string(status).value_or(TaskStatus::Failed);
    result.error = doc.value("error", std::string());
    result.cpu_s = doc.value("cpu_s", 0.0);
    result.runq_s = doc.value("runq_s", 0.0);
    result.wall_s = doc.value("wall_s", 0.0);
    result.peak_rss_kb = doc.value("peak_rss_kb", 0L);
    result.tainted = doc.value("tainted", false);
    return result;
  });
}

}  // namespace pyhost::proto
