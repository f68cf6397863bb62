// Unicode helpers shared by the heuristic and the feature extractor. Pure, thread-safe.
#pragma once
#include <cstddef>
#include <string_view>

namespace triage::classify {

// True for non-ASCII code points Python's re counts as word characters (\w): str.isalnum().
bool IsNonAsciiWordChar(char32_t c);

// True for code points Python's re counts as word characters (\w): str.isalnum() or '_'.
inline bool IsUnicodeWordChar(char32_t c) {
  if (c < 0x80) {
    return (c >= U'0' && c <= U'9') || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') ||
           c == U'_';
  }
  return IsNonAsciiWordChar(c);
}

// Decodes one UTF-8 code point at text[i], advancing i past it. Invalid or truncated sequences
// decode as U+FFFD and consume one byte, so any byte string is walked in linear time.
inline char32_t DecodeUtf8(std::string_view text, size_t& i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + len > text.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not characters.
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    ++i;
    return 0xFFFD;
  }
  i += len;
  return cp;
}

// Length of the longest prefix of text[0, cap) that does not split a UTF-8 sequence.
inline size_t Utf8Prefix(std::string_view text, size_t cap) {
  if (text.size() <= cap) return text.size();
  size_t end = cap;
  // Step back over at most 3 continuation bytes to the start of the cut sequence.
  for (int k = 0; k < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80; ++k)
    --end;
  return end;
}

}  // namespace triage::classify
