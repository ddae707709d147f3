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
  if (path.empty()) return normalizePath(base);
  std::string joined(base);
  joined += '/';
  joined += path;
  return normalizePath(joined);
}

}  // namespace aa
