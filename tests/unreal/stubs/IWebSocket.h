// Stand-in for Unreal's IWebSocket (WebSockets module), UE 5.x signatures. Not Unreal Engine.
// The implementation (StandInWebSocket.cpp) is a real RFC 6455 client whose callbacks run on
// its I/O thread, like the engine's: OnRawMessage per frame piece with the bytes remaining in
// that FRAME, OnBinaryMessage with bIsLastFragment at the end of the MESSAGE, OnMessage for text.
#pragma once
#include "CoreMinimal.h"

class IWebSocket {
 public:
  virtual ~IWebSocket() = default;
  typedef TMulticastDelegate<> FWebSocketConnectedEvent;
  typedef TMulticastDelegate<const FString&> FWebSocketConnectionErrorEvent;
  typedef TMulticastDelegate<int32, const FString&, bool> FWebSocketClosedEvent;
  typedef TMulticastDelegate<const FString&> FWebSocketMessageEvent;
  typedef TMulticastDelegate<const void*, SIZE_T, bool> FWebSocketBinaryMessageEvent;
  typedef TMulticastDelegate<const void*, SIZE_T, SIZE_T> FWebSocketRawMessageEvent;
  typedef TMulticastDelegate<const FString&> FWebSocketMessageSentEvent;
  virtual void Connect() = 0;
  virtual void Close(int32 Code = 1000, const FString& Reason = FString()) = 0;
  virtual bool IsConnected() = 0;
  virtual void Send(const FString& Data) = 0;
  virtual void Send(const void* Data, SIZE_T Size, bool bIsBinary = false) = 0;
  virtual FWebSocketConnectedEvent& OnConnected() = 0;
  virtual FWebSocketConnectionErrorEvent& OnConnectionError() = 0;
  virtual FWebSocketClosedEvent& OnClosed() = 0;
  virtual FWebSocketMessageEvent& OnMessage() = 0;
  virtual FWebSocketBinaryMessageEvent& OnBinaryMessage() = 0;
  virtual FWebSocketRawMessageEvent& OnRawMessage() = 0;
  virtual FWebSocketMessageSentEvent& OnMessageSent() = 0;
};
