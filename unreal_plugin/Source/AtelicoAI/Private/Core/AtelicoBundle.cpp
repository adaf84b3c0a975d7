// Where a packaged game finds the bundled sidecar (`atelico bundle`), engine-independent.
#include "AtelicoBundle.h"

namespace atelico {
namespace core {

const char* const kBundleFolder = "atelico-sidecar";

std::string BundleExecutableName(const std::string& ubt_platform) {
  const bool windows = ubt_platform.compare(0, 3, "Win") == 0;
  return std::string(kBundleFolder) + (windows ? ".exe" : "");
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) {
    return b;
  }
  size_t end = a.find_last_not_of("/\\");
  const std::string head = end == std::string::npos ? std::string("/") : a.substr(0, end + 1) + "/";
  size_t start = b.find_first_not_of("/\\");
  return head + (start == std::string::npos ? std::string() : b.substr(start));
}

std::string StagedBundleFolder(const std::string& root, const std::string& ubt_platform) {
  return JoinPath(JoinPath(JoinPath(root, "ThirdParty/AtelicoSidecar"), ubt_platform), kBundleFolder);
}

std::vector<std::string> BundleCandidates(const BundleSearch& search) {
  const std::string exe = BundleExecutableName(search.ubt_platform);
  std::vector<std::string> found;
  if (!search.project_dir.empty()) {
    found.push_back(JoinPath(StagedBundleFolder(search.project_dir, search.ubt_platform), exe));
  }
  if (!search.plugin_dir.empty()) {
    found.push_back(JoinPath(StagedBundleFolder(search.plugin_dir, search.ubt_platform), exe));
  }
  if (!search.executable_dir.empty()) {
    found.push_back(JoinPath(JoinPath(search.executable_dir, kBundleFolder), exe));
  }
  return found;
}

std::string FindBundle(const BundleSearch& search, const std::function<bool(const std::string&)>& is_file) {
  for (const std::string& candidate : BundleCandidates(search)) {
    if (is_file(candidate)) {
      return candidate;
    }
  }
  return std::string();
}

}  // namespace core
}  // namespace atelico
