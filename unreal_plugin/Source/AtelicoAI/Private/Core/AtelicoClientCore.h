// Sans-I/O protocol client: handshake, request ids, exactly-once completion, timeouts, cancel.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "AtelicoEnvelope.h"
#include "AtelicoMsgPack.h"

namespace atelico {
namespace core {

/** An error as the protocol names it: a stable `code` a program can act on. */
struct RequestError {
  std::string code;
  std::string message;
  Value details = Value::Map();
};

enum class CompletionStatus : uint8_t { Done, Failed, Cancelled };

/** The one terminal outcome of a request. `result` is the `done` message when Done, and the
 *  server's `cancelled` (whose data reports a barge-in: see HeardFromData) when Cancelled. */
struct Completion {
  CompletionStatus status = CompletionStatus::Failed;
  Message result;
  RequestError error;
};

/** Callbacks for one request. on_event sees every non-terminal message (tts.chunk, stt.partial,
 *  face.frames, ...); on_complete runs exactly once. Both may start or cancel requests. */
struct RequestHandlers {
  std::function<void(const Message&)> on_event;
  std::function<void(const Completion&)> on_complete;
};

enum class ConnectionState : uint8_t { Disconnected, Connecting, Handshaking, Ready };
const char* ConnectionStateName(ConnectionState state);

struct ClientOptions {
  std::string client_name = "unreal";
  std::string client_version = "0.1.0";
  std::string token;
  /** Close the socket when no `welcome` arrives within this time after opening. */
  double handshake_timeout_s = 10.0;
  /** A request with no message from the server for this long fails with `request.timeout`. */
  double request_timeout_s = 60.0;
  /** After cancel, wait this long for the server's `cancelled` before completing locally. */
  double cancel_grace_s = 5.0;
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  /** Requests waiting for a connection; beyond this Start fails with `limits.queue_full`. */
  size_t max_queued = 256;
};

/** Exponential reconnect delay: initial, doubling up to a cap, with +-jitter (deterministic seed). */
class Backoff {
 public:
  Backoff(double initial_s = 0.25, double max_s = 10.0, double jitter = 0.2, uint32_t seed = 12345u)
      : initial_s_(initial_s), max_s_(max_s), jitter_(jitter), state_(seed ? seed : 1u) {}
  double NextDelaySeconds();
  void Reset() { attempt_ = 0; }
  int Attempts() const { return attempt_; }

 private:
  double initial_s_;
  double max_s_;
  double jitter_;
  uint32_t state_;
  int attempt_ = 0;
};

/**
 * The protocol client without I/O. The owner feeds transport events (OnOpened, OnFrame,
 * OnClosed) and time (Tick); the core sends through the injected SendFn. Not thread-safe:
 * call everything from one thread (the game thread in Unreal).
 *
 * Guarantees: every Start() ends in exactly one on_complete - on done/error/cancelled from
 * the server, on timeout (`request.timeout`), when the socket drops (`connection.lost`),
 * on a fatal handshake error (its code, e.g. `auth.invalid_token`) or on Close() / destruction
 * (`client.closed`). An undecodable server frame closes the socket (`connection.lost`).
 * Requests started before the handshake completes are queued and sent after `welcome`.
 */
class ClientCore {
 public:
  /** Sends one binary frame; false when the transport cannot take it. */
  using SendFn = std::function<bool(std::vector<uint8_t>&& frame)>;
  /** Asks the transport to close the socket (handshake timeout, fatal errors). */
  using CloseFn = std::function<void(int status_code, const std::string& reason)>;

  ClientCore(ClientOptions options, SendFn send, CloseFn close);
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;
  ~ClientCore();

  // Transport events.
  void OnConnecting();
  void OnOpened(double now_s);
  void OnClosed(const std::string& reason);
  void OnFrame(const uint8_t* data, size_t size, double now_s);
  void Tick(double now_s);

  /**
   * Starts a request and returns its id. `timeout_s` < 0 uses the default inactivity timeout;
   * 0 disables it (live transcription sessions may stay silent for long).
   */
  std::string Start(const std::string& type, Value data, const std::vector<uint8_t>* payload,
                    RequestHandlers handlers, double now_s, double timeout_s = -1.0);
  /** Sends a follow-up frame of an open request (stt.live.audio, tts.text, face.stream.stop,
   *  ...). A request still queued keeps up to max_queued follow-ups and sends them, in order,
   *  right after itself. False when the id is not open or is being cancelled. */
  bool SendFollowUp(const std::string& id, const std::string& type, Value data,
                    const std::vector<uint8_t>* payload, double now_s);
  /** Cancels a request: queued ones complete at once, sent ones when the server confirms
   *  (or after cancel_grace_s). False when the id is not open. `data` rides on the cancel,
   *  e.g. `{played_samples}` for a barge-in into a speech stream (see BargeInData). */
  bool Cancel(const std::string& id, double now_s, Value data = Value::Map());
  /** New sidecar credentials (a relaunch): replaces the token and clears a fatal error.
   *  Call while disconnected; queued requests go to the next connection. */
  void Reconfigure(const std::string& token) {
    options_.token = token;
    fatal_ = false;
    last_connection_error_ = RequestError();
  }
  /** The game closes the client: every open request completes with `client.closed`, then the
   *  socket is closed. Start() may reconnect later (the owner calls OnConnecting again). */
  void Close(const std::string& reason = std::string());
  /** Completes every open request with `code` (e.g. at shutdown); sends nothing. */
  void FailAll(const std::string& code, const std::string& message);

  bool IsOpen(const std::string& id) const { return requests_.count(id) != 0; }
  std::vector<std::string> OpenIds() const {
    std::vector<std::string> ids;
    for (const auto& entry : requests_) ids.push_back(entry.first);
    return ids;
  }
  size_t OpenCount() const { return requests_.size(); }
  ConnectionState State() const { return state_; }
  /** The server's welcome data (models, capabilities, limits); empty map before. */
  const Value& Welcome() const { return welcome_; }
  /** A fatal handshake error (bad token, protocol version) stops reconnects. */
  bool HasFatalError() const { return fatal_; }
  const RequestError& LastConnectionError() const { return last_connection_error_; }

  std::function<void(ConnectionState)> on_state_changed;
  /** Connection-level `error` frames (id nil) and frames that failed to decode. */
  std::function<void(const RequestError&)> on_connection_error;

 private:
  struct Request {
    std::string type;
    Value data;
    std::vector<uint8_t> payload;
    bool has_payload = false;
    RequestHandlers handlers;
    bool sent = false;
    bool cancel_requested = false;
    std::vector<Message> held_followups;  // written before the request went out
    double timeout_s = 0.0;
    double deadline_s = 0.0;  // 0 = none
  };

  void SetState(ConnectionState state);
  void Complete(const std::string& id, Completion completion);
  void FailRequest(const std::string& id, const std::string& code, const std::string& message);
  void FlushQueue(double now_s);
  bool SendRequest(const std::string& id, Request& request, double now_s);
  size_t SentCount() const;
  void HandleMessage(Message&& message, double now_s);

  ClientOptions options_;
  SendFn send_;
  CloseFn close_;
  ConnectionState state_ = ConnectionState::Disconnected;
  std::map<std::string, Request> requests_;
  std::deque<std::string> queue_;
  std::set<std::string> abandoned_;  // timed out locally; ignore their late messages
  Value welcome_ = Value::Map();
  size_t max_in_flight_ = 16;
  double handshake_deadline_s_ = 0.0;
  uint64_t next_id_ = 1;
  bool fatal_ = false;
  RequestError last_connection_error_;
};

}  // namespace core
}  // namespace atelico
