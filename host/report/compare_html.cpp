// `pyhost compare --html`: one self-contained page (no scripts, no network) with SVG charts drawn
// here: speedup against workers per mode with the ideal line and the Amdahl curve, a per-worker
// timeline (Gantt) of one run per mode, and the table.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "report/compare.hpp"
#include "report/compare_table.hpp"
#include "util/escape.hpp"

namespace pyhost::compare {
namespace {

std::string mode_color(const std::string& mode) {
  const ModeInfo* info = find_mode(mode);
  return info ? std::string(info->colour) : "#9467bd";
}

bool side_by_side(const Comparison& c) {
  return c.interpreters.size() > 1;
}

// Side by side, every interpreter that ran something, `--python`'s first, then any other (the
// freethreaded mode's companion when it is not listed).
std::vector<std::string> interpreters_shown(const Comparison& c) {
  std::vector<std::string> names = c.interpreters;
  for (const auto& r : c.results)
    if (!r.config.python.empty() &&
        std::find(names.begin(), names.end(), r.config.python) == names.end())
      names.push_back(r.config.python);
  return names;
}

// One colour per interpreter (side by side; the modes then differ by their lines' dashes).
std::string python_color(const Comparison& c, const std::string& python) {
  static constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                             "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
  const auto names = interpreters_shown(c);
  const auto at = std::find(names.begin(), names.end(), python) - names.begin();
  return kPalette[static_cast<std::size_t>(at) % std::size(kPalette)];
}

// The colour of a configuration's series: its mode's, or side by side its interpreter's.
std::string series_color(const Comparison& c, const Config& config) {
  return side_by_side(c) ? python_color(c, config.python) : mode_color(config.mode);
}

// Side by side, a mode is told by its line's dashes.
const char* mode_dash(const Comparison& c, const std::string& mode) {
  if (!side_by_side(c)) return "none";
  if (mode == "subinterpreters") return "8 3";
  if (mode == "processes") return "10 3 2 3";
  if (mode == "freethreaded") return "1 3";
  return "none";
}

// Axis ticks at 1, 2 or 5 times a power of ten, at most about `count` of them.
std::vector<double> nice_ticks(double max, int count = 6) {
  std::vector<double> ticks;
  if (!(max > 0) || !std::isfinite(max)) return {0};
  const double rough = max / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= rough) break;
  }
  for (double t = 0; t <= max * (1 + 1e-9); t += step) ticks.push_back(t);
  return ticks;
}

std::string num(double x) {
  return fmt::format("{:.2f}", x);
}

std::string tick_label(double value) {
  if (value == std::floor(value)) return fmt::format("{:.0f}", value);
  return fmt::format("{:g}", value);
}

// ---- Speedup against workers ----------------------------------------------------------------

std::string speedup_chart(const Comparison& c) {
  const double width = 880, height = 420;
  const double left = 60, right = 300, top = 20, bottom = 50;
  const double plot_w = width - left - right, plot_h = height - top - bottom;

  int max_workers = 1;
  double max_speedup = 1;
  for (const auto& r : c.results) {
    max_workers = std::max(max_workers, r.config.workers);
    if (r.speedup) max_speedup = std::max(max_speedup, *r.speedup + r.speedup_err.value_or(0));
  }
  const double x_max = std::max(2, max_workers);
  const double y_max = std::ceil(std::max(x_max, max_speedup) * 1.1 * 2) / 2;
  auto X = [&](double p) { return left + (p - 1) / (x_max - 1) * plot_w; };
  auto Y = [&](double s) { return top + plot_h - s / y_max * plot_h; };

  std::string svg = fmt::format(
      "<svg id=\"speedup-chart\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
      "viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" role=\"img\" "
      "aria-label=\"Speedup against serial by number of workers\">\n",
      width, height);
  svg += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", width,
                     height);
  // Grid and axes.
  for (double t : nice_ticks(y_max, 6)) {
    svg += fmt::format(
        "<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e5e5e5\"/>\n",
        num(left), num(Y(t)), num(left + plot_w), num(Y(t)));
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>\n",
                       num(left - 6), num(Y(t) + 4), tick_label(t));
  }
  std::vector<int> xticks;
  for (int p = 1; p <= static_cast<int>(x_max); p += std::max(1, static_cast<int>(x_max) / 8))
    xticks.push_back(p);
  if (xticks.back() != static_cast<int>(x_max)) xticks.push_back(static_cast<int>(x_max));
  for (int p : xticks)
    svg +=
        fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n",
                    num(X(p)), num(top + plot_h + 18), p);
  svg += fmt::format(
      "<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#333\"/>\n",
      num(left), num(top + plot_h), num(left + plot_w));
  svg += fmt::format(
      "<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#333\"/>\n",
      num(left), num(top), num(top + plot_h));
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\">workers</text>\n",
      num(left + plot_w / 2), num(height - 10));
  svg += fmt::format(
      "<text x=\"16\" y=\"{0}\" text-anchor=\"middle\" font-size=\"13\" "
      "transform=\"rotate(-90 16 {0})\">speedup vs serial</text>\n",
      num(top + plot_h / 2));

  // Ideal: S = p.
  svg += fmt::format(
      "<line class=\"ideal\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#888\" "
      "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>ideal: S = p</title></line>\n",
      num(X(1)), num(Y(1)), num(X(x_max)), num(Y(x_max)));

  // One series per mode (per mode and interpreter side by side); the first serial is the
  // baseline, drawn below; another interpreter's serial is a point of its own.
  std::vector<std::string> modes;
  std::map<std::string, const Config*> config_of;
  const ConfigResult* base = c.baseline();
  for (const auto& r : c.results)
    if (!(base && r.config == base->config) &&
        std::find(modes.begin(), modes.end(), r.config.series()) == modes.end()) {
      modes.push_back(r.config.series());
      config_of[r.config.series()] = &r.config;
    }

  for (const auto& mode : modes) {
    const std::string color = series_color(c, *config_of[mode]);
    const std::string python = config_of[mode]->python;
    // Amdahl's law with the fitted serial fraction.
    if (auto it = c.amdahl_serial_fraction.find(mode); it != c.amdahl_serial_fraction.end()) {
      const double f = std::clamp(it->second, 0.0, 1.0);
      std::string d;
      const int steps = 60;
      for (int i = 0; i <= steps; ++i) {
        const double p = 1 + (x_max - 1) * i / steps;
        d += fmt::format("{}{} {}", i ? " L" : "M", num(X(p)), num(Y(stats::amdahl_speedup(f, p))));
      }
      svg += fmt::format(
          "<path class=\"amdahl\" data-mode=\"{}\" d=\"{}\" fill=\"none\" stroke=\"{}\" "
          "stroke-width=\"1.5\" stroke-dasharray=\"2 3\"><title>{}: Amdahl, serial "
          "fraction {:.2f}</title></path>\n",
          mode, d, color, mode, it->second);
    }
    std::vector<const ConfigResult*> points;
    for (const auto& r : c.results)
      if (r.config.series() == mode && r.speedup) points.push_back(&r);
    std::sort(points.begin(), points.end(), [](const ConfigResult* a, const ConfigResult* b) {
      return a->config.workers < b->config.workers;
    });
    if (points.size() > 1) {
      std::string pts;
      for (const ConfigResult* r : points)
        pts += fmt::format("{},{} ", num(X(r->config.workers)), num(Y(*r->speedup)));
      svg += fmt::format(
          "<polyline class=\"measured\" data-mode=\"{}\" data-python=\"{}\" points=\"{}\" "
          "fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"{}\"/>\n",
          markup_escape(mode), markup_escape(python), pts, color,
          mode_dash(c, config_of[mode]->mode));
    }
    for (const ConfigResult* r : points) {
      const double x = X(r->config.workers), y = Y(*r->speedup);
      if (r->speedup_err && *r->speedup_err > 0) {
        const double lo = Y(std::max(0.0, *r->speedup - *r->speedup_err));
        const double hi = Y(*r->speedup + *r->speedup_err);
        svg += fmt::format(
            "<line class=\"errbar\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" "
            "stroke=\"{3}\" stroke-width=\"1.5\"/>\n",
            num(x), num(lo), num(hi), color);
      }
      svg += fmt::format(
          "<circle class=\"point\" data-mode=\"{}\" data-python=\"{}\" data-workers=\"{}\" "
          "cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{}\"><title>{}: {:.2f}x{}</title></circle>\n",
          markup_escape(mode), markup_escape(python), r->config.workers, num(x), num(y), color,
          r->config.label(), *r->speedup,
          r->speedup_err ? fmt::format(" ± {:.2f}", *r->speedup_err) : std::string());
    }
  }
  // The baseline itself.
  const std::string baseline = base ? base->config.label() : std::string(baseline_mode().name);
  svg += fmt::format(
      "<circle class=\"point baseline\" data-mode=\"{0}\" cx=\"{1}\" cy=\"{2}\" r=\"4\" "
      "fill=\"{3}\"><title>{0}: 1.00x (baseline)</title></circle>\n",
      markup_escape(baseline), num(X(1)), num(Y(1)),
      base ? series_color(c, base->config) : mode_color(baseline));

  // Legend.
  double ly = top + 10;
  const double lx = left + plot_w + 20;
  auto legend = [&](const std::string& text, const std::string& color, const char* dash) {
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" "
        "stroke-dasharray=\"{}\"/>\n",
        num(lx), num(ly), num(lx + 24), num(ly), color, dash);
    svg += fmt::format("<text class=\"legend\" x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>\n",
                       num(lx + 30), num(ly + 4), markup_escape(text));
    ly += 20;
  };
  legend("ideal (S = p)", "#888", "6 4");
  for (const auto& mode : modes) {
    const std::string color = series_color(c, *config_of[mode]);
    legend(mode + ": measured", color, mode_dash(c, config_of[mode]->mode));
    if (auto it = c.amdahl_serial_fraction.find(mode); it != c.amdahl_serial_fraction.end())
      legend(fmt::format("{}: Amdahl, f = {:.2f}", mode, it->second), color, "2 3");
  }
  svg += "</svg>\n";
  return svg;
}

// ---- Timelines --------------------------------------------------------------------------------

const ConfigResult* widest(const Comparison& c, const std::string& series) {
  const ConfigResult* pick = nullptr;
  for (const auto& r : c.results)
    if (r.config.series() == series && (!pick || r.config.workers > pick->config.workers))
      pick = &r;
  return pick;
}

const gil::WorkerTimeline* gil_of(const ConfigResult& r, int worker) {
  for (const auto& w : r.gil_timeline)
    if (w.worker == worker) return &w;
  return nullptr;
}

// The GIL segments of one worker within [t0, t1]: holding solid, waiting pale, off-CPU white.
template <typename ToX>
std::string gil_rects(const gil::WorkerTimeline& w, double t0, double t1, ToX X, double y, double h,
                      const std::string& color) {
  std::string svg;
  for (const auto& s : w.segments) {
    const double a = std::max(s.start_s, t0), b = std::min(s.end_s, t1);
    if (b <= a) continue;
    const char* fill_opacity = s.state == gil::GilState::Held   ? "1"
                               : s.state == gil::GilState::Wait ? "0.28"
                                                                : "0";
    svg += fmt::format(
        "<rect class=\"gil {}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" "
        "fill-opacity=\"{}\"><title>{} {:.4f} … {:.4f} s</title></rect>\n",
        gil::to_string(s.state), num(X(a)), num(y), fmt::format("{:.3f}", X(b) - X(a)), num(h),
        s.state == gil::GilState::Off ? "#ffffff" : color, fill_opacity,
        s.state == gil::GilState::Held   ? "holding the GIL"
        : s.state == gil::GilState::Wait ? "waiting for the GIL"
                                         : "off-CPU, not wanting the GIL",
        a, b);
  }
  return svg;
}

// A close-up of `length` seconds of r's run, where the GIL switches are visible.
std::string gil_detail_chart(const Comparison& c, const ConfigResult& r, double length) {
  const auto [t0, t1] = detail_window(r, length);
  int workers = 0;
  for (const auto& w : r.gil_timeline) workers = std::max(workers, w.worker + 1);
  const double width = 820, left = 80, right = 20, top = 10, row_h = 22, axis_h = 34;
  const double plot_w = width - left - right, height = top + row_h * workers + axis_h;
  auto X = [&](double t) { return left + (t - t0) / (t1 - t0) * plot_w; };
  const std::string color = series_color(c, r.config);
  std::string svg = fmt::format(
      "<svg class=\"gil-detail chart\" data-mode=\"{0}\" data-python=\"{5}\" "
      "xmlns=\"http://www.w3.org/2000/svg\" "
      "viewBox=\"0 0 {1} {2}\" width=\"{1}\" height=\"{2}\" role=\"img\" "
      "aria-label=\"GIL holder over {3:.0f} ms of one {4} run\">\n",
      r.config.mode, width, height, length * 1000, markup_escape(r.config.label()),
      markup_escape(r.config.python));
  svg += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", width,
                     height);
  for (double t : nice_ticks(length * 1000, 10)) {
    const double x = X(t0 + t / 1000);
    svg += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#eeeeee\"/>\n",
        num(x), num(top), num(top + row_h * workers));
    svg +=
        fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">+{}</text>\n",
                    num(x), num(top + row_h * workers + 14), tick_label(t));
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">milliseconds after "
      "{:.3f} s</text>\n",
      num(left + plot_w / 2), num(height - 4), t0);
  for (const auto& w : r.gil_timeline) {
    const double y = top + row_h * w.worker;
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">worker {}</text>\n",
        num(left - 8), num(y + row_h / 2 + 4), w.worker);
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#dddddd\"/>\n",
        num(left), num(y + 3), num(plot_w), num(row_h - 6));
    svg += gil_rects(w, t0, t1, X, y + 3, row_h - 6, color);
  }
  svg += "</svg>\n";
  return svg;
}

std::string timeline_chart(const Comparison& c, const ConfigResult& r, double x_max) {
  int workers = std::max(1, r.config.workers);
  for (const auto& t : r.timeline) workers = std::max(workers, t.worker + 1);
  const double width = 820, left = 80, right = 20, top = 10, row_h = 28, axis_h = 34;
  const double plot_w = width - left - right;
  const double height = top + row_h * workers + axis_h;
  auto X = [&](double s) { return left + s / x_max * plot_w; };
  const std::string color = series_color(c, r.config);

  std::string svg = fmt::format(
      "<svg class=\"timeline chart\" data-mode=\"{0}\" data-workers=\"{1}\" data-python=\"{5}\" "
      "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {2} {3}\" width=\"{2}\" height=\"{3}\" "
      "role=\"img\" aria-label=\"Timeline of one {4} run\">\n",
      r.config.mode, r.config.workers, width, height, markup_escape(r.config.label()),
      markup_escape(r.config.python));
  svg += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", width,
                     height);
  for (double t : nice_ticks(x_max, 8)) {
    svg += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#eeeeee\"/>\n",
        num(X(t)), num(top), num(top + row_h * workers));
    svg +=
        fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n",
                    num(X(t)), num(top + row_h * workers + 14), tick_label(t));
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">seconds since "
      "the run started</text>\n",
      num(left + plot_w / 2), num(height - 4));
  for (int w = 0; w < workers; ++w) {
    const double y = top + row_h * w;
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">worker {}</text>\n",
        num(left - 8), num(y + row_h / 2 + 4), w);
    if (static_cast<std::size_t>(w) < r.worker_startup_s.size() && r.worker_startup_s[w] > 0) {
      const double s = r.worker_startup_s[w];
      svg += fmt::format(
          "<rect class=\"startup\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
          "fill=\"#bbbbbb\"><title>worker {} start-up: {:.4f} s</title></rect>\n",
          num(X(0)), num(y + 8), num(std::max(1.0, X(s) - X(0))), num(row_h - 16), w, s);
    }
  }
  for (const auto& t : r.timeline) {
    if (t.worker < 0) continue;
    const double y = top + row_h * t.worker;
    const double x0 = X(t.start_s), x1 = X(t.end_s);
    const double w = std::max(1.5, x1 - x0);
    const gil::WorkerTimeline* sampled = gil_of(r, t.worker);
    std::string split;
    if (t.gil_held_s)
      split = fmt::format("; GIL held {:.3f} s, waited {:.3f} s, off-CPU {:.3f} s", *t.gil_held_s,
                          t.gil_wait_s.value_or(0), t.off_cpu_s.value_or(0));
    // With GIL samples the bar is an outline filled by them: solid while holding the GIL.
    svg += fmt::format(
        "<rect class=\"task\" data-task=\"{}\" data-worker=\"{}\" x=\"{}\" y=\"{}\" "
        "width=\"{}\" height=\"{}\" fill=\"{}\" fill-opacity=\"{}\" stroke=\"{}\" "
        "stroke-width=\"1\"><title>task {} on worker {}: {:.3f} … {:.3f} s{}</title></rect>\n",
        t.task, t.worker, num(x0), num(y + 3), num(w), num(row_h - 6), sampled ? "#ffffff" : color,
        sampled      ? "1"
        : t.task % 2 ? "0.65"
                     : "0.9",
        sampled ? color : "#ffffff", t.task, t.worker, t.start_s, t.end_s, split);
    if (sampled) svg += gil_rects(*sampled, t.start_s, t.end_s, X, y + 4, row_h - 8, color);
    if (w >= 16 && !sampled)
      svg += fmt::format(
          "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" "
          "fill=\"#ffffff\">{}</text>\n",
          num(x0 + w / 2), num(y + row_h / 2 + 4), t.task);
  }
  svg += "</svg>\n";
  return svg;
}

const char* kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto;
       max-width: 1200px; padding: 0 16px; color: #222; background: #ffffff; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin-top: 8px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; white-space: nowrap; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.good { color: #1a7f37; font-weight: 600; }
td.bad { color: #c62828; font-weight: 600; }
td.name { font-weight: 600; }
.warnings li { color: #8a5a00; }
.verdicts { font-weight: 600; }
figure { margin: 12px 0 20px 0; }
figcaption { font-size: 14px; margin-bottom: 4px; }
svg.chart { max-width: 100%; height: auto; font-family: inherit; }
.note { color: #555; font-size: 13px; }
)";

}  // namespace

std::string render_html(const Comparison& c) {
  std::string target = c.script;
  for (const auto& arg : c.args) target += " " + arg;
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += fmt::format("<title>pyhost compare: {}</title>\n", markup_escape(target));
  html += fmt::format("<style>{}</style>\n</head>\n<body>\n", kStyle);
  html += "<h1>pyhost compare</h1>\n";
  html += fmt::format(
      "<p class=\"meta\"><code>{}</code>: {} task{} per run, {} run{} (+{} warmup) "
      "per configuration, {} core{}, Python {}</p>\n",
      markup_escape(target), c.tasks, c.tasks == 1 ? "" : "s", c.repeat, c.repeat == 1 ? "" : "s",
      c.warmup, c.cores, c.cores == 1 ? "" : "s",
      markup_escape(side_by_side(c)
                        ? fmt::format("{} side by side", fmt::join(c.interpreters, ", "))
                        : c.python));

  html += "<h2>What happened</h2>\n<ul class=\"explanations\">\n";
  for (const auto& line : c.explanations) html += "<li>" + markup_escape(line) + "</li>\n";
  html += "</ul>\n";
  if (!c.verdicts.empty()) {
    html += "<p class=\"verdicts\">";
    for (std::size_t i = 0; i < c.verdicts.size(); ++i)
      html += (i ? "<br>\n" : "") + markup_escape(c.verdicts[i]);
    html += "</p>\n";
  }
  if (!c.warnings.empty()) {
    html += "<ul class=\"warnings\">\n";
    for (const auto& line : c.warnings) html += "<li>Warning: " + markup_escape(line) + "</li>\n";
    html += "</ul>\n";
  }

  if (side_by_side(c)) {
    // One colour per interpreter, in every chart; the modes differ by their lines' dashes.
    html += "<ul class=\"interpreter-legend\">\n";
    for (const auto& python : interpreters_shown(c)) {
      bool free_threaded = false;
      for (const auto& r : c.results)
        if (r.config.python == python) free_threaded = r.config.free_threaded;
      html += fmt::format(
          "<li data-python=\"{0}\"><svg width=\"14\" height=\"14\"><rect width=\"14\" "
          "height=\"14\" fill=\"{1}\"/></svg> Python {0}{2}</li>\n",
          markup_escape(python), python_color(c, python), free_threaded ? " (free-threaded)" : "");
    }
    html += "</ul>\n";
  }
  html += "<h2>Speedup against workers</h2>\n";
  html +=
      "<p class=\"note\">Speedup is the serial wall time (median) over each configuration's; "
      "bars show one standard deviation. The dashed line is the ideal S = p; the dotted curves "
      "are Amdahl's law with the serial fraction fitted from the Karp–Flatt metric.</p>\n";
  html += "<figure>\n" + speedup_chart(c) + "</figure>\n";

  html += "<h2>Timelines</h2>\n";
  html +=
      "<p class=\"note\">One run per mode (the run closest to the median), at its largest "
      "worker count: each bar is a task on the worker that ran it; grey is the worker's "
      "start-up. All timelines share one time scale. Where the GIL was sampled (threads and "
      "sub-interpreters), each bar shows its worker's state: <strong>solid</strong> while it "
      "held its interpreter's GIL (running Python), <strong>pale</strong> while it waited for "
      "the GIL, <strong>white</strong> while off-CPU without wanting it (I/O, sleep, C code "
      "that released it); the close-ups show 50 ms where the switches (every 5 ms by default) "
      "are visible.</p>\n";
  std::vector<const ConfigResult*> shown;
  std::vector<std::string> modes;
  for (const auto& r : c.results)
    if (std::find(modes.begin(), modes.end(), r.config.series()) == modes.end())
      modes.push_back(r.config.series());
  double x_max = 0;
  for (const auto& mode : modes) {
    const ConfigResult* r = widest(c, mode);
    if (!r) continue;
    shown.push_back(r);
    for (const auto& t : r->timeline) x_max = std::max(x_max, t.end_s);
    for (double s : r->worker_startup_s) x_max = std::max(x_max, s);
  }
  if (x_max <= 0) x_max = 1;
  for (const ConfigResult* r : shown) {
    html += fmt::format(
        "<figure>\n<figcaption><strong>{}</strong>: run {} of {}, {:.3f} s{}</figcaption>\n",
        markup_escape(r->config.label()), r->timeline_run + 1, r->runs_s.size(),
        r->timeline_run < r->runs_s.size() ? r->runs_s[r->timeline_run] : 0.0,
        r->gil_wait ? fmt::format(", GIL wait {:.0f} %", *r->gil_wait * 100) : "");
    html += timeline_chart(c, *r, x_max) + "</figure>\n";
    if (!r->gil_timeline.empty()) {
      const double length = 0.05;
      const auto [from, to] = detail_window(*r, length);
      html += fmt::format(
          "<figure>\n<figcaption>{}: {:.0f} ms close-up, {:.3f} … {:.3f} s{}{}</figcaption>\n",
          markup_escape(r->config.label()), length * 1000, from, to,
          r->gil_switch_rate ? fmt::format(", {:.0f} GIL switches/s", *r->gil_switch_rate) : "",
          r->gil_source == "estimate" ? " (estimate: " + markup_escape(r->gil_note) + ")" : "");
      html += gil_detail_chart(c, *r, length) + "</figure>\n";
    }
  }

  html += "<h2>Table</h2>\n<div class=\"table-wrap\">\n<table class=\"results\">\n<thead><tr>";
  const Table table = readable_table(c);
  for (const auto& h : table.headers) html += "<th>" + markup_escape(h) + "</th>";
  html += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    html += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string cls = table.right_aligned[i] ? "num" : "";
      if (row[i].tone == Tone::Good) cls += " good";
      if (row[i].tone == Tone::Bad) cls += " bad";
      if (row[i].tone == Tone::Name) cls += " name";
      html += fmt::format("<td class=\"{}\">{}</td>", cls, markup_escape(row[i].text));
    }
    html += "</tr>\n";
  }
  html += "</tbody>\n</table>\n</div>\n";
  html +=
      "<p class=\"note\">GIL wait: share of each worker thread's time waiting for its "
      "interpreter's GIL, sampled 1000 times a second from the GIL's own state (where it "
      "cannot be, the off-CPU share (wall − CPU − run-queue wait) / wall stands in); it applies "
      "to threads and sub-interpreters. CPU util: CPU time of all tasks "
      "over the wall time (CPUs busy on average). Karp–Flatt: experimentally determined serial "
      "fraction e = (1/S − 1/p) / (1 − 1/p).</p>\n";
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace pyhost::compare
