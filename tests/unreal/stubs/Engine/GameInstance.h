#pragma once
#include "UObjectStandIns.h"
