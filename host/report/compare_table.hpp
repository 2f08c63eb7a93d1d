// The one table of `pyhost compare`, shared by the terminal, Markdown, CSV and HTML writers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/compare.hpp"

namespace pyhost::compare {

enum class Tone { Plain, Good, Bad, Name };

struct Cell {
  std::string text;
  Tone tone = Tone::Plain;
};

struct Table {
  std::vector<std::string> headers;
  std::vector<bool> right_aligned;
  std::vector<std::vector<Cell>> rows;
};

// Formatted for reading (terminal, Markdown, HTML): "1.234 ± 0.012", "1.95x ± 0.04".
Table readable_table(const Comparison& comparison);

std::string format_seconds(double seconds);
std::string format_with_spread(double value, double spread);
std::string format_optional(const std::optional<double>& value, const char* spec);

}  // namespace pyhost::compare
