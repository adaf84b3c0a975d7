// Stand-in for Unreal's HTTP request interface. Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

class IHttpResponse {
 public:
  virtual ~IHttpResponse() = default;
  virtual int32 GetResponseCode() const = 0;
  virtual FString GetContentAsString() const = 0;
  virtual const TArray<uint8>& GetContent() const = 0;
  virtual FString GetHeader(const FString& HeaderName) const = 0;
};
class IHttpRequest;
typedef TSharedPtr<IHttpRequest> FHttpRequestPtr;
typedef TSharedPtr<IHttpResponse> FHttpResponsePtr;
class FHttpRequestCompleteDelegate {
 public:
  template <typename F> void BindLambda(F&& f) { fn_ = std::forward<F>(f); }
  bool IsBound() const { return static_cast<bool>(fn_); }
  void Unbind() { fn_ = nullptr; }
  bool ExecuteIfBound(FHttpRequestPtr Request, FHttpResponsePtr Response, bool bConnected) const {
    if (!fn_) return false;
    fn_(Request, Response, bConnected);
    return true;
  }
 private:
  std::function<void(FHttpRequestPtr, FHttpResponsePtr, bool)> fn_;
};
class IHttpRequest {
 public:
  virtual ~IHttpRequest() = default;
  virtual void SetURL(const FString&) = 0;
  virtual void SetVerb(const FString&) = 0;
  virtual void SetHeader(const FString&, const FString&) = 0;
  virtual void SetTimeout(float) = 0;
  virtual bool ProcessRequest() = 0;
  virtual void CancelRequest() = 0;
  virtual FHttpRequestCompleteDelegate& OnProcessRequestComplete() = 0;
};
