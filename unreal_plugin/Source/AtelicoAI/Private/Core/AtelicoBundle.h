// Where a packaged game finds the bundled sidecar (`atelico bundle`), engine-independent.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace atelico {
namespace core {

/** The folder `atelico bundle` writes and every add-on ships under this name. */
extern const char* const kBundleFolder;

/** "atelico-sidecar.exe" for a Windows UBT platform (Win64, WinGDK, ...), else "atelico-sidecar". */
std::string BundleExecutableName(const std::string& ubt_platform);

/** `root`/ThirdParty/AtelicoSidecar/<ubt_platform>/atelico-sidecar: where AtelicoAI.Build.cs takes
 *  the bundle from (root = the project, else the plugin) and, staged at the same path, where the
 *  packaged game finds it. */
std::string StagedBundleFolder(const std::string& root, const std::string& ubt_platform);

/** Absolute folders of the running game, as the engine reports them. */
struct BundleSearch {
  std::string project_dir;     // FPaths::ProjectDir()
  std::string plugin_dir;      // the AtelicoAI plugin's base dir (IPluginManager); may be empty
  std::string executable_dir;  // FPlatformProcess::BaseDir()
  std::string ubt_platform;    // FPlatformMisc::GetUBTPlatform()
};

/** The bundle executables a packaged game looks for, in order: staged under the project, staged
 *  under the plugin (the order AtelicoAI.Build.cs picks a source in), then
 *  <executable dir>/atelico-sidecar/ (a bundle copied beside the game by hand). */
std::vector<std::string> BundleCandidates(const BundleSearch& search);

/** The first of BundleCandidates that `is_file` accepts, else "". */
std::string FindBundle(const BundleSearch& search, const std::function<bool(const std::string&)>& is_file);

/** `a`/`b` with exactly one '/' between them (Unreal paths use '/' on every platform). */
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace core
}  // namespace atelico
