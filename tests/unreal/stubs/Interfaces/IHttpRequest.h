// Stand-in for Unreal's HTTP request interface. Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

class IHttpResponse {
 public:
  virtual ~IHttpResponse() = default;
  virtual int32 GetResponseCode() const = 0;
  virtual FString GetContentAsString() const = 0;
};
class IHttpRequest;
typedef TSharedPtr<IHttpRequest> FHttpRequestPtr;
typedef TSharedPtr<IHttpResponse> FHttpResponsePtr;
class FHttpRequestCompleteDelegate {
 public:
  template <typename F> void BindLambda(F&& f) {
    std::function<void(FHttpRequestPtr, FHttpResponsePtr, bool)> fn = std::forward<F>(f);
    (void)fn;
  }
};
class IHttpRequest {
 public:
  virtual ~IHttpRequest() = default;
  virtual void SetURL(const FString&) = 0;
  virtual void SetVerb(const FString&) = 0;
  virtual void SetTimeout(float) = 0;
  virtual bool ProcessRequest() = 0;
  virtual FHttpRequestCompleteDelegate& OnProcessRequestComplete() = 0;
};
