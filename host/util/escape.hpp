// Text made safe for the markup pyhost writes (JUnit XML of batch, compare's HTML report).
#pragma once

#include <string>
#include <string_view>

namespace pyhost {

// Markup escaped (& < > " '), invalid UTF-8 and characters XML 1.0 forbids replaced by U+FFFD,
// so that a script's stray bytes cannot make a report unreadable. The same text serves XML and
// HTML. In attributes, line breaks and tabs are escaped too (parsers would normalise them).
std::string markup_escape(std::string_view text, bool attribute = false);

}  // namespace pyhost
