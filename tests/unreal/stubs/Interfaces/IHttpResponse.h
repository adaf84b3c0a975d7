#pragma once
#include "Interfaces/IHttpRequest.h"
