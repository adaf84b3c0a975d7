// Conversions between the core's std types (UTF-8) and Unreal's FString/TArray.
#pragma once

#include "CoreMinimal.h"

#include <string>
#include <vector>

namespace AtelicoConvert
{
inline std::string ToUtf8(const FString& Text)
{
	FTCHARToUTF8 Converted(*Text);
	return std::string(reinterpret_cast<const char*>(Converted.Get()), static_cast<size_t>(Converted.Length()));
}

inline FString FromUtf8(const std::string& Text)
{
	FUTF8ToTCHAR Converted(Text.data(), static_cast<int32>(Text.size()));
	return FString(Converted.Length(), Converted.Get());
}

inline std::vector<uint8_t> ToBytes(const TArray<uint8>& Bytes)
{
	return std::vector<uint8_t>(Bytes.GetData(), Bytes.GetData() + Bytes.Num());
}

inline TArray<uint8> FromBytes(const std::vector<uint8_t>& Bytes)
{
	return TArray<uint8>(Bytes.data(), static_cast<int32>(Bytes.size()));
}
}
