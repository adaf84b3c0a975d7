// Editor settings: how to launch the sidecar for Play In Editor.
#include "Settings/AtelicoAIEditorSettings.h"
