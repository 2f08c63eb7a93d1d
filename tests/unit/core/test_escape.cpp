#include "util/escape.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pyhost {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MarkupEscape, KeepsXmlAndHtmlWellFormed) {
  EXPECT_EQ(markup_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(markup_escape("line\nnext\ttab"), "line\nnext\ttab");
  EXPECT_EQ(markup_escape("line\nnext", true), "line&#10;next");
  EXPECT_EQ(markup_escape("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(markup_escape(std::string("nul\0x", 5)), "nul" + fffd + "x");
  EXPECT_EQ(markup_escape("esc\x1b[0m"), "esc" + fffd + "[0m");
  EXPECT_EQ(markup_escape("bad\xff"), "bad" + fffd);
  EXPECT_EQ(markup_escape("cut\xE2\x82"), "cut" + fffd + fffd);
  EXPECT_EQ(markup_escape("overlong\xC0\xAF"), "overlong" + fffd + fffd);
  EXPECT_EQ(markup_escape("surrogate\xED\xA0\x80"), "surrogate" + fffd + fffd + fffd);
  EXPECT_THAT(markup_escape("cr\r"), Not(HasSubstr("\r")));
}

}  // namespace
}  // namespace pyhost
