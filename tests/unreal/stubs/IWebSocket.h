// Stand-in for Unreal's IWebSocket (WebSockets module), UE 5.x signatures. Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

class IWebSocket {
 public:
  virtual ~IWebSocket() = default;
  DECLARE_MULTICAST_DELEGATE_OneParam(FWebSocketConnectedEventDummy, int32);
  typedef TMulticastDelegate<> FWebSocketConnectedEvent;
  typedef TMulticastDelegate<const FString&> FWebSocketConnectionErrorEvent;
  typedef TMulticastDelegate<int32, const FString&, bool> FWebSocketClosedEvent;
  typedef TMulticastDelegate<const FString&> FWebSocketMessageEvent;
  typedef TMulticastDelegate<const void*, SIZE_T, SIZE_T> FWebSocketRawMessageEvent;
  virtual void Connect() = 0;
  virtual void Close(int32 Code = 1000, const FString& Reason = FString()) = 0;
  virtual bool IsConnected() = 0;
  virtual void Send(const FString& Data) = 0;
  virtual void Send(const void* Data, SIZE_T Size, bool bIsBinary = false) = 0;
  virtual FWebSocketConnectedEvent& OnConnected() = 0;
  virtual FWebSocketConnectionErrorEvent& OnConnectionError() = 0;
  virtual FWebSocketClosedEvent& OnClosed() = 0;
  virtual FWebSocketMessageEvent& OnMessage() = 0;
  virtual FWebSocketRawMessageEvent& OnRawMessage() = 0;
};
