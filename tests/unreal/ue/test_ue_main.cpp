// UE-layer tests: the plugin's Unreal code compiled against the stand-in engine and run on its
// game loop, mostly against the live sidecar that tests/unreal/run.sh starts.
#define DOCTEST_CONFIG_IMPLEMENT
#include "UeTestSupport.h"

int main(int argc, char** argv) {
  check(IsInGameThread());
  doctest::Context context(argc, argv);
  const int rc = context.run();
  AtelicoStandIn::ShutdownAudioDevice();
  return rc;
}
