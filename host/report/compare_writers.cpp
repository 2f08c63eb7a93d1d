// `pyhost compare` reports: the terminal table, CSV, Markdown and JSON.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "pyhost/results.hpp"
#include "report/compare.hpp"
#include "report/compare_table.hpp"

namespace pyhost::compare {

namespace {

int decimals_for(double s) {
  const double a = std::fabs(s);
  if (a >= 100) return 1;
  if (a >= 10) return 2;
  if (a >= 0.01 || a == 0) return 3;
  return 4;
}

}  // namespace

std::string format_seconds(double s) {
  return fmt::format("{:.{}f}", s, decimals_for(s));
}

// "0.520 ± 0.006": the spread with the same decimals as the value it goes with.
std::string format_with_spread(double value, double spread) {
  const int d = decimals_for(value);
  return fmt::format("{:.{}f} ± {:.{}f}", value, d, spread, d);
}

std::string format_optional(const std::optional<double>& value, const char* spec) {
  if (!value) return "—";
  return fmt::format(fmt::runtime(spec), *value);
}

namespace {

std::string percent_or_dash(const std::optional<double>& fraction) {
  if (!fraction) return "—";
  return fmt::format("{:.0f} %", *fraction * 100);
}

Tone speedup_tone(const ConfigResult& r) {
  if (!r.speedup || r.config.mode_info().baseline) return Tone::Plain;
  if (*r.speedup >= 1.1) return Tone::Good;
  if (*r.speedup < 0.9) return Tone::Bad;
  return Tone::Plain;
}

// Visible width of UTF-8 text (each code point counts one column).
std::size_t display_width(const std::string& text) {
  std::size_t width = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++width;
  return width;
}

std::string pad(const std::string& text, std::size_t width, bool right) {
  const std::size_t w = display_width(text);
  if (w >= width) return text;
  const std::string fill(width - w, ' ');
  return right ? fill + text : text + fill;
}

const char* ansi(Tone tone) {
  switch (tone) {
    case Tone::Good:
      return "\033[32m";
    case Tone::Bad:
      return "\033[31m";
    case Tone::Name:
      return "\033[1;36m";
    case Tone::Plain:
      return "";
  }
  return "";
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(const std::optional<double>& value) {
  return value ? fmt::format("{:.6g}", *value) : "";
}

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else
      out += c;
  }
  return out;
}

std::string title_line(const Comparison& c) {
  std::string target = c.script;
  for (const auto& arg : c.args) target += " " + arg;
  return fmt::format(
      "{}: {} task{} per run, {} run{} (+{} warmup) per configuration, {} core{}, "
      "Python {}",
      target, c.tasks, c.tasks == 1 ? "" : "s", c.repeat, c.repeat == 1 ? "" : "s", c.warmup,
      c.cores, c.cores == 1 ? "" : "s",
      c.interpreters.size() > 1 ? fmt::format("{} side by side", fmt::join(c.interpreters, ", "))
                                : c.python);
}

// The widest configuration of each mode, in the order the modes first appear.
std::vector<const ConfigResult*> widest_per_mode(const Comparison& comparison) {
  std::vector<const ConfigResult*> picks;
  for (const auto& r : comparison.results) {
    auto same = std::find_if(picks.begin(), picks.end(), [&](const ConfigResult* p) {
      return p->config.series() == r.config.series();
    });
    if (same == picks.end())
      picks.push_back(&r);
    else if (r.config.workers > (*same)->config.workers)
      *same = &r;
  }
  return picks;
}

}  // namespace

std::string render_gil_text(const Comparison& comparison, int width, double detail_s) {
  std::string out;
  for (const ConfigResult* r : widest_per_mode(comparison)) {
    if (r->gil_timeline.empty()) continue;
    double end = 0;
    for (const auto& t : r->timeline) end = std::max(end, t.end_s);
    for (const auto& w : r->gil_timeline)
      if (!w.segments.empty()) end = std::max(end, w.segments.back().end_s);
    if (end <= 0) continue;
    const auto [from, to] = detail_window(*r, detail_s);
    if (out.empty())
      out += fmt::format(
          "GIL timelines, one run per mode (\u2588 holding the GIL, \u2591 waiting for it, blank "
          "off-CPU without wanting it, . no task): the whole run | {:.0f} ms of it\n",
          detail_s * 1000);
    std::string label = r->config.label();
    if (r->gil_source == "estimate") label += " (estimate)";
    out += fmt::format(
        "  {} — whole run 0 … {:.3f} s ({:.1f} ms a column) | close-up {:.3f} … {:.3f} s ({:.1f} "
        "ms "
        "a column){}\n",
        label, end, end / width * 1000, from, to, detail_s / width * 1000,
        r->gil_switches ? fmt::format("; {} GIL switches", *r->gil_switches) : "");
    for (const auto& w : r->gil_timeline) {
      // Between its tasks a worker is idle: '·' marks where it ran none.
      std::vector<gil::Segment> in_tasks;
      for (const auto& t : r->timeline)
        if (t.worker == w.worker)
          for (const auto& s : w.segments) {
            const double a = std::max(s.start_s, t.start_s), b = std::min(s.end_s, t.end_s);
            if (b > a) in_tasks.push_back({a, b, s.state});
          }
      in_tasks = gil::merge_segments(std::move(in_tasks));
      const gil::StateTimes times = gil::time_in_states(in_tasks, 0, end);
      const double total = times.total_s();
      out += fmt::format("    worker {:<3} |{}| |{}|", w.worker,
                         gil::render_text(in_tasks, 0, end, width, '.'),
                         gil::render_text(in_tasks, from, to, width, '.'));
      if (total > 0)
        out += fmt::format("  held {:.0f} %, waiting {:.0f} %, off-CPU {:.0f} %",
                           times.held_s / total * 100, times.wait_s / total * 100,
                           times.off_s / total * 100);
      out += "\n";
    }
  }
  return out;
}

Table readable_table(const Comparison& comparison) {
  Table table;
  table.headers = {"mode",        "workers",       "median s",    "mean ± σ s",
                   "min … max s", "MAD s",         "outliers",    "speedup",
                   "efficiency",  "Karp–Flatt",    "CPU util",    "GIL wait",
                   "RSS MB",      "RSS/worker MB", "start-up ms", "tasks s"};
  table.right_aligned = {false, true, true, true, true, true, true, true,
                         true,  true, true, true, true, true, true, true};
  // Several interpreters side by side: which one ran the row comes first.
  const bool python_column = comparison.interpreters.size() > 1;
  if (python_column) {
    table.headers.insert(table.headers.begin(), "python");
    table.right_aligned.insert(table.right_aligned.begin(), false);
  }
  for (const auto& r : comparison.results) {
    std::vector<Cell> row;
    if (python_column) row.push_back({r.config.python.empty() ? "—" : r.config.python, Tone::Name});
    row.push_back({r.config.mode, Tone::Name});
    row.push_back({std::to_string(r.config.workers)});
    row.push_back({format_seconds(r.wall.median)});
    row.push_back({r.wall.stddev ? format_with_spread(r.wall.mean, *r.wall.stddev)
                                 : format_seconds(r.wall.mean)});
    row.push_back({format_seconds(r.wall.min) + " … " + format_seconds(r.wall.max)});
    row.push_back({fmt::format("{:.{}f}", r.wall.mad, decimals_for(r.wall.median))});
    row.push_back({std::to_string(r.wall.outliers.size())});
    std::string speed = "—";
    if (r.speedup) {
      speed = fmt::format("{:.2f}x", *r.speedup);
      if (r.speedup_err && !r.config.mode_info().baseline)
        speed += fmt::format(" ± {:.2f}", *r.speedup_err);
    }
    row.push_back({speed, speedup_tone(r)});
    row.push_back({percent_or_dash(r.efficiency)});
    row.push_back({format_optional(r.karp_flatt, "{:.2f}")});
    row.push_back({fmt::format("{:.2f}", r.cpu_util)});
    row.push_back({percent_or_dash(r.gil_wait)});
    row.push_back({format_optional(r.peak_rss_mb, "{:.1f}")});
    row.push_back({format_optional(r.rss_per_worker_mb, "{:.1f}")});
    row.push_back({fmt::format("{:.1f}", r.startup_s * 1000)});
    row.push_back({format_seconds(r.task_s)});
    table.rows.push_back(std::move(row));
  }
  return table;
}

std::string render_terminal(const Comparison& comparison, const TableOptions& options) {
  const Table table = readable_table(comparison);
  std::vector<std::size_t> widths(table.headers.size(), 0);
  for (std::size_t i = 0; i < table.headers.size(); ++i)
    widths[i] = display_width(table.headers[i]);
  for (const auto& row : table.rows)
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i].text));

  const char* reset = options.color ? "\033[0m" : "";
  const char* bold = options.color ? "\033[1m" : "";
  const char* dim = options.color ? "\033[2m" : "";
  const char* yellow = options.color ? "\033[33m" : "";
  std::string out;
  out += fmt::format("{}{}{}\n\n", bold, title_line(comparison), reset);
  std::string header;
  for (std::size_t i = 0; i < table.headers.size(); ++i)
    header += (i ? "  " : "") + pad(table.headers[i], widths[i], table.right_aligned[i]);
  out += fmt::format("{}{}{}\n", bold, header, reset);
  for (const auto& row : table.rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::string cell = pad(row[i].text, widths[i], table.right_aligned[i]);
      line += i ? "  " : "";
      if (options.color && row[i].tone != Tone::Plain)
        line += std::string(ansi(row[i].tone)) + cell + reset;
      else
        line += cell;
    }
    // No trailing blanks.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  if (!comparison.explanations.empty()) {
    out += "\n";
    for (const auto& line : comparison.explanations) out += "  " + line + "\n";
  }
  if (const std::string gil_text = render_gil_text(comparison); !gil_text.empty())
    out += "\n" + gil_text;
  if (!comparison.verdicts.empty()) {
    out += "\n";
    for (const auto& line : comparison.verdicts) out += fmt::format("{}{}{}\n", bold, line, reset);
  }
  if (!comparison.warnings.empty()) {
    out += "\n";
    for (const auto& line : comparison.warnings)
      out += fmt::format("{}Warning:{} {}\n", yellow, reset, line);
  }
  (void)dim;
  return out;
}

std::string render_csv(const Comparison& comparison) {
  // Several interpreters side by side: python and free_threaded first, as in the table.
  const bool python_column = comparison.interpreters.size() > 1;
  std::string out = python_column ? "python,free_threaded," : "";
  out +=
      "mode,workers,tasks,runs,median_s,mean_s,stddev_s,min_s,max_s,mad_s,outliers,speedup,"
      "speedup_err,efficiency,karp_flatt,cpu_util,gil_wait,peak_rss_mb,rss_per_worker_mb,"
      "startup_s,task_s\n";
  for (const auto& r : comparison.results) {
    if (python_column)
      out += fmt::format("{},{},", csv_field(r.config.python), r.config.free_threaded);
    out +=
        fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                    csv_field(r.config.mode), r.config.workers, r.config.tasks, r.wall.n,
                    csv_number(r.wall.median), csv_number(r.wall.mean), csv_number(r.wall.stddev),
                    csv_number(r.wall.min), csv_number(r.wall.max), csv_number(r.wall.mad),
                    r.wall.outliers.size(), csv_number(r.speedup), csv_number(r.speedup_err),
                    csv_number(r.efficiency), csv_number(r.karp_flatt), csv_number(r.cpu_util),
                    csv_number(r.gil_wait), csv_number(r.peak_rss_mb),
                    csv_number(r.rss_per_worker_mb), csv_number(r.startup_s), csv_number(r.task_s));
  }
  return out;
}

std::string render_markdown(const Comparison& comparison) {
  const Table table = readable_table(comparison);
  std::string out = "**" + markdown_cell(title_line(comparison)) + "**\n\n|";
  // (Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about " " + std::string.)
  for (const auto& h : table.headers) out.append(" ").append(markdown_cell(h)).append(" |");
  out += "\n|";
  for (bool right : table.right_aligned) out += right ? "---:|" : ":---|";
  out += "\n";
  for (const auto& row : table.rows) {
    out += "|";
    for (const auto& cell : row) out.append(" ").append(markdown_cell(cell.text)).append(" |");
    out += "\n";
  }
  if (!comparison.explanations.empty()) {
    out += "\n";
    for (const auto& line : comparison.explanations) out += "- " + markdown_cell(line) + "\n";
  }
  if (!comparison.verdicts.empty()) {
    out += "\n";
    for (const auto& line : comparison.verdicts) out += line + "  \n";
  }
  if (!comparison.warnings.empty()) {
    out += "\n";
    for (const auto& line : comparison.warnings) out += "> **Warning:** " + line + "\n";
  }
  return out;
}

nlohmann::json to_json(const Comparison& comparison) {
  using nlohmann::json;
  auto opt = [](const std::optional<double>& value) { return value ? json(*value) : json(); };
  json results = json::array();
  for (const auto& r : comparison.results) {
    json timeline = json::array();
    for (const auto& t : r.timeline) {
      json entry = {
          {"task", t.task}, {"worker", t.worker}, {"start_s", t.start_s}, {"end_s", t.end_s}};
      if (t.gil_held_s) {
        entry["gil_held_s"] = opt(t.gil_held_s);
        entry["gil_wait_s"] = opt(t.gil_wait_s);
        entry["off_cpu_s"] = opt(t.off_cpu_s);
      }
      timeline.push_back(std::move(entry));
    }
    json item = json::object();
    // The documented keys, then further detail (nlohmann::json writes keys sorted).
    item["mode"] = r.config.mode;
    // The CPython that ran it ("3.13", "3.13t"; null where none could: the mode was skipped).
    item["python"] = r.config.python.empty() ? json() : json(r.config.python);
    item["free_threaded"] = r.config.free_threaded;
    item["workers"] = r.config.workers;
    item["tasks"] = r.config.tasks;
    item["runs_s"] = r.runs_s;
    item["median_s"] = r.wall.median;
    item["mean_s"] = r.wall.mean;
    item["stddev_s"] = opt(r.wall.stddev);
    item["speedup"] = opt(r.speedup);
    item["speedup_err"] = opt(r.speedup_err);
    item["efficiency"] = opt(r.efficiency);
    item["karp_flatt"] = opt(r.karp_flatt);
    item["cpu_util"] = r.cpu_util;
    item["gil_wait"] = opt(r.gil_wait);
    item["peak_rss_mb"] = opt(r.peak_rss_mb);
    item["rss_per_worker_mb"] = opt(r.rss_per_worker_mb);
    item["startup_s"] = r.startup_s;
    item["timeline"] = timeline;
    item["min_s"] = r.wall.min;
    item["max_s"] = r.wall.max;
    item["mad_s"] = r.wall.mad;
    item["outliers"] = r.wall.outliers;
    item["task_s"] = r.task_s;
    item["off_cpu"] = r.off_cpu;
    item["runq"] = r.runq;
    item["overlap"] = r.overlapped;
    item["no_parallel_work"] = r.no_parallel_work;
    item["worker_startup_s"] = r.worker_startup_s;
    item["warnings"] = r.warnings;
    item["gil_sampled"] = r.gil_sampled;
    item["gil_held"] = opt(r.gil_held);
    item["gil_switches_per_s"] = opt(r.gil_switch_rate);
    item["gil_switches"] = r.gil_switches ? json(*r.gil_switches) : json();
    item["gil_sampling"] =
        r.gil_source.empty() ? json() : json{{"source", r.gil_source}, {"note", r.gil_note}};
    item["gil_segments"] = gil_segments_json(r.gil_timeline);
    results.push_back(std::move(item));
  }
  json fractions = json::object();
  for (const auto& [mode, f] : comparison.amdahl_serial_fraction) fractions[mode] = f;
  json doc = json::object();
  doc["python"] = comparison.python;
  doc["interpreters"] = comparison.interpreters;
  doc["cores"] = comparison.cores;
  doc["results"] = results;
  doc["script"] = comparison.script;
  doc["args"] = comparison.args;
  doc["tasks"] = comparison.tasks;
  doc["repeat"] = comparison.repeat;
  doc["warmup"] = comparison.warmup;
  doc["amdahl_serial_fraction"] = fractions;
  doc["explanations"] = comparison.explanations;
  doc["verdicts"] = comparison.verdicts;
  doc["warnings"] = comparison.warnings;
  return doc;
}

}  // namespace pyhost::compare
