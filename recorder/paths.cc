#include "recorder/paths.h"

#include <vector>

namespace aa {

std::string walkedToPath(std::string_view walked) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < walked.size()) {
    size_t end = walked.find('\0', i);
    if (end == std::string_view::npos) end = walked.size();
    if (end > i) parts.push_back(walked.substr(i, end - i));
    i = end + 1;
  }
  if (parts.empty()) return "/";
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    out += '/';
    out += *it;
  }
  return out;
}

std::string walkedTail(std::string_view walked) {
  std::string abs = walkedToPath(walked);
  return abs == "/" ? std::string() : abs.substr(1);
}

namespace {
// normalizePath for a relative path: ".." that climbs above its start is kept.
std::string normalizeRelative(std::string_view rel) {
  std::vector<std::string_view> parts;
  size_t ups = 0;
  size_t i = 0;
  while (i <= rel.size()) {
    size_t end = rel.find('/', i);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view part = rel.substr(i, end - i);
    if (part.empty() || part == ".") {
    } else if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      else ++ups;
    } else {
      parts.push_back(part);
    }
    i = end + 1;
  }
  std::string out;
  for (size_t k = 0; k < ups; ++k) out += out.empty() ? ".." : "/..";
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}
}  // namespace

std::string normalizePath(std::string_view absolute) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= absolute.size()) {
    size_t end = absolute.find('/', i);
    if (end == std::string_view::npos) end = absolute.size();
    std::string_view part = absolute.substr(i, end - i);
    if (part.empty() || part == ".") {
      // skip
    } else if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(part);
    }
    i = end + 1;
  }
  if (parts.empty()) return "/";
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out;
}

std::string resolvePath(std::string_view path, std::string_view base) {
  if (!path.empty() && path.front() == '/') return normalizePath(path);
  if (base.empty()) return std::string(path);
  if (path.empty()) return base.front() == '/' ? normalizePath(base) : normalizeRelative(base);
  std::string joined(base);
  joined += '/';
  joined += path;
  return base.front() == '/' ? normalizePath(joined) : normalizeRelative(joined);
}

}  // namespace aa
