// Unreal's global macros, force-included into a unity build of the core: an identifier in the
// core that collides with one of these fails to compile here exactly as it would in UE.
#pragma once
#define check(expr) static_assert(false, "UE check() macro collided")
#define verify(expr) static_assert(false, "UE verify() macro collided")
#define ensure(expr) static_assert(false, "UE ensure() macro collided")
#define checkf(expr, ...) static_assert(false, "UE checkf() macro collided")
#define ensureMsgf(expr, ...) static_assert(false, "UE ensureMsgf() macro collided")
#define checkNoEntry() static_assert(false, "UE checkNoEntry() macro collided")
#define TEXT(x) L##x
#define IN
#define OUT
#define PI (3.1415926535897932f)
#define INDEX_NONE (-1)
#define UE_LOG(...)
#define FORCEINLINE inline
#define CONSTEXPR constexpr
#define LOCTEXT(k, v) v
// Windows headers pulled in by UE on some platforms.
#define ERROR 0
#define DELETE 0x00010000L
#define IGNORE 0
