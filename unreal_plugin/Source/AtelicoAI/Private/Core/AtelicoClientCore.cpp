// Sans-I/O protocol client: handshake, request ids, exactly-once completion, timeouts, cancel.
#include "AtelicoClientCore.h"

namespace atelico {
namespace core {

const char* ConnectionStateName(ConnectionState state) {
  switch (state) {
    case ConnectionState::Disconnected: return "disconnected";
    case ConnectionState::Connecting: return "connecting";
    case ConnectionState::Handshaking: return "handshaking";
    case ConnectionState::Ready: return "ready";
  }
  return "unknown";
}

double Backoff::NextDelaySeconds() {
  double delay = initial_s_;
  for (int i = 0; i < attempt_ && delay < max_s_; ++i) delay *= 2.0;
  if (delay > max_s_) delay = max_s_;
  ++attempt_;
  state_ = state_ * 1664525u + 1013904223u;  // LCG: reproducible jitter
  const double unit = static_cast<double>(state_ >> 8) / static_cast<double>(1u << 24);  // [0, 1)
  return delay * (1.0 + jitter_ * (2.0 * unit - 1.0));
}

ClientCore::ClientCore(ClientOptions options, SendFn send, CloseFn close)
    : options_(std::move(options)), send_(std::move(send)), close_(std::move(close)) {}

ClientCore::~ClientCore() { FailAll("client.closed", "the client was destroyed"); }

void ClientCore::Close(const std::string& reason) {
  FailAll("client.closed", reason.empty() ? "the client was closed" : reason);
  if (state_ != ConnectionState::Disconnected && close_) close_(1000, reason);
  SetState(ConnectionState::Disconnected);
}

void ClientCore::SetState(ConnectionState state) {
  if (state_ == state) return;
  state_ = state;
  if (on_state_changed) on_state_changed(state);
}

void ClientCore::OnConnecting() { SetState(ConnectionState::Connecting); }

void ClientCore::OnOpened(double now_s) {
  welcome_ = Value::Map();
  SetState(ConnectionState::Handshaking);
  handshake_deadline_s_ = now_s + options_.handshake_timeout_s;
  Value hello = Value::Map();
  hello.Set("protocol", Value::Int(1));
  hello.Set("client", Value::Str(options_.client_name));
  hello.Set("client_version", Value::Str(options_.client_version));
  if (!options_.token.empty()) hello.Set("token", Value::Str(options_.token));
  if (!send_(EncodeMessage(Message::Make("hello", std::move(hello))))) {
    if (close_) close_(1011, "could not send hello");
  }
}

void ClientCore::OnClosed(const std::string& reason) {
  if ((state_ == ConnectionState::Connecting || state_ == ConnectionState::Handshaking) && !fatal_) {
    // The socket never reached welcome: nothing listens, the upgrade was refused, or it closed.
    last_connection_error_.code = "connection.unavailable";
    last_connection_error_.message = "cannot connect to the sidecar" + (reason.empty() ? "" : ": " + reason);
    last_connection_error_.details = Value::Map();
  }
  SetState(ConnectionState::Disconnected);
  abandoned_.clear();
  // Sent requests are lost with the socket; queued ones wait for the next connection.
  std::vector<std::string> lost;
  for (const auto& entry : requests_) {
    if (entry.second.sent) lost.push_back(entry.first);
  }
  const std::string message = reason.empty() ? "the connection to the sidecar was lost"
                                             : "the connection to the sidecar was lost: " + reason;
  for (const std::string& id : lost) FailRequest(id, "connection.lost", message);
  if (fatal_) {
    std::vector<std::string> queued(queue_.begin(), queue_.end());
    for (const std::string& id : queued) {
      FailRequest(id, last_connection_error_.code, last_connection_error_.message);
    }
  }
}

void ClientCore::Complete(const std::string& id, Completion completion) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  RequestHandlers handlers = std::move(it->second.handlers);
  requests_.erase(it);
  for (auto q = queue_.begin(); q != queue_.end(); ++q) {
    if (*q == id) {
      queue_.erase(q);
      break;
    }
  }
  if (handlers.on_complete) handlers.on_complete(completion);
}

void ClientCore::FailRequest(const std::string& id, const std::string& code, const std::string& message) {
  Completion c;
  c.status = CompletionStatus::Failed;
  c.error.code = code;
  c.error.message = message;
  Complete(id, std::move(c));
}

void ClientCore::FailAll(const std::string& code, const std::string& message) {
  std::vector<std::string> ids;
  for (const auto& entry : requests_) ids.push_back(entry.first);
  for (const std::string& id : ids) FailRequest(id, code, message);
}

size_t ClientCore::SentCount() const {
  size_t n = 0;
  for (const auto& entry : requests_) n += entry.second.sent ? 1u : 0u;
  return n;
}

bool ClientCore::SendRequest(const std::string& id, Request& request, double now_s) {
  Message m = Message::Make(request.type, request.data);
  m.WithId(id);
  if (request.has_payload) m.WithPayload(std::move(request.payload));
  request.data = Value::Map();
  request.payload.clear();
  std::vector<uint8_t> frame = EncodeMessage(m);
  if (frame.size() > options_.max_frame_bytes) {
    FailRequest(id, "protocol.frame_too_large",
                "request of " + std::to_string(frame.size()) + " bytes exceeds the frame limit of " +
                    std::to_string(options_.max_frame_bytes));
    return false;
  }
  request.sent = true;
  if (request.timeout_s > 0) request.deadline_s = now_s + request.timeout_s;
  if (!send_(std::move(frame))) {
    FailRequest(id, "connection.lost", "the sidecar connection refused the frame");
    return false;
  }
  std::vector<Message> held;
  held.swap(request.held_followups);
  for (Message& follow_up : held) {  // written while the request waited: now, in order
    if (!send_(EncodeMessage(follow_up))) {
      FailRequest(id, "connection.lost", "the sidecar connection refused the frame");
      return false;
    }
  }
  return true;
}

void ClientCore::FlushQueue(double now_s) {
  while (state_ == ConnectionState::Ready && !queue_.empty() && SentCount() < max_in_flight_) {
    const std::string id = queue_.front();
    queue_.pop_front();
    auto it = requests_.find(id);
    if (it == requests_.end()) continue;
    SendRequest(id, it->second, now_s);
  }
}

std::string ClientCore::Start(const std::string& type, Value data, const std::vector<uint8_t>* payload,
                              RequestHandlers handlers, double now_s, double timeout_s) {
  const std::string id = "u" + std::to_string(next_id_++);
  Request r;
  r.type = type;
  r.data = data.IsMap() ? std::move(data) : Value::Map();
  if (payload != nullptr) {
    r.payload = *payload;
    r.has_payload = true;
  }
  r.handlers = std::move(handlers);
  r.timeout_s = timeout_s < 0 ? options_.request_timeout_s : timeout_s;
  // Queued requests time out too, so nothing waits forever for a sidecar that never comes.
  if (r.timeout_s > 0) r.deadline_s = now_s + r.timeout_s;
  requests_.emplace(id, std::move(r));
  if (fatal_) {
    FailRequest(id, last_connection_error_.code, last_connection_error_.message);
    return id;
  }
  if (queue_.size() >= options_.max_queued) {
    FailRequest(id, "limits.queue_full", "too many requests are waiting for the sidecar");
    return id;
  }
  queue_.push_back(id);
  FlushQueue(now_s);
  return id;
}

bool ClientCore::SendFollowUp(const std::string& id, const std::string& type, Value data,
                              const std::vector<uint8_t>* payload, double now_s) {
  auto it = requests_.find(id);
  if (it == requests_.end() || it->second.cancel_requested) return false;
  Message m = Message::Make(type, data.IsMap() ? std::move(data) : Value::Map());
  m.WithId(id);
  if (payload != nullptr) m.WithPayload(*payload);
  if (!it->second.sent) {  // queued (no connection yet): kept, sent right after the request
    if (it->second.held_followups.size() >= options_.max_queued) return false;
    it->second.held_followups.push_back(std::move(m));
    return true;
  }
  std::vector<uint8_t> frame = EncodeMessage(m);
  if (frame.size() > options_.max_frame_bytes) return false;
  if (it->second.timeout_s > 0) it->second.deadline_s = now_s + it->second.timeout_s;
  return send_(std::move(frame));
}

bool ClientCore::Cancel(const std::string& id, double now_s, Value data) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return false;
  if (!it->second.sent) {
    Completion c;
    c.status = CompletionStatus::Cancelled;
    Complete(id, std::move(c));
    return true;
  }
  if (it->second.cancel_requested) return true;
  it->second.cancel_requested = true;
  it->second.deadline_s = now_s + options_.cancel_grace_s;
  Message m = Message::Make("cancel", std::move(data));
  m.WithId(id);
  send_(EncodeMessage(m));
  return true;
}

void ClientCore::Tick(double now_s) {
  if (state_ == ConnectionState::Handshaking && now_s >= handshake_deadline_s_) {
    if (close_) close_(1002, "handshake timeout");
    OnClosed("handshake timeout");
    last_connection_error_.code = "connection.handshake_timeout";
    last_connection_error_.message = "the sidecar did not answer hello in time";
  }
  std::vector<std::string> expired;
  for (const auto& entry : requests_) {
    if (entry.second.deadline_s > 0 && now_s >= entry.second.deadline_s) expired.push_back(entry.first);
  }
  for (const std::string& id : expired) {
    auto it = requests_.find(id);
    if (it == requests_.end()) continue;
    if (it->second.cancel_requested) {
      Completion c;
      c.status = CompletionStatus::Cancelled;
      Complete(id, std::move(c));  // the server never confirmed; end it locally
      continue;
    }
    const bool was_sent = it->second.sent;
    const double timeout_s = it->second.timeout_s;
    if (was_sent) {
      abandoned_.insert(id);
      Message m = Message::Make("cancel");
      m.WithId(id);
      send_(EncodeMessage(m));
    }
    FailRequest(id, "request.timeout",
                "no answer from the sidecar for " + std::to_string(static_cast<int>(timeout_s)) + " s");
  }
}

void ClientCore::OnFrame(const uint8_t* data, size_t size, double now_s) {
  Message m;
  ProtocolIssue issue;
  if (!DecodeMessage(data, size, m, issue, options_.max_frame_bytes)) {
    RequestError e;
    e.code = issue.code;
    e.message = "undecodable frame from the sidecar: " + issue.message;
    if (on_connection_error) on_connection_error(e);
    // A stream we cannot parse cannot be trusted: close it; requests in flight are lost.
    if (state_ != ConnectionState::Disconnected) {
      if (close_) close_(1002, "undecodable frame");
      OnClosed("undecodable frame");
    }
    return;
  }
  HandleMessage(std::move(m), now_s);
}

void ClientCore::HandleMessage(Message&& m, double now_s) {
  if (m.type == "welcome") {
    welcome_ = m.data;
    if (const Value* limits = m.data.Find("limits")) {
      const int64_t in_flight = limits->GetInt("max_in_flight", 16);
      max_in_flight_ = in_flight > 0 ? static_cast<size_t>(in_flight) : 16u;
      const int64_t frame_bytes = limits->GetInt("max_frame_bytes", 0);
      if (frame_bytes > 0 && static_cast<uint64_t>(frame_bytes) < options_.max_frame_bytes) {
        options_.max_frame_bytes = static_cast<size_t>(frame_bytes);
      }
    }
    SetState(ConnectionState::Ready);
    FlushQueue(now_s);
    return;
  }
  if (!m.has_id) {
    if (m.type == "error") {
      RequestError e;
      e.code = m.data.GetStr("code", "internal");
      e.message = m.data.GetStr("message");
      if (const Value* details = m.data.Find("details")) e.details = *details;
      last_connection_error_ = e;
      if (state_ != ConnectionState::Ready &&
          (e.code == "auth.invalid_token" || e.code == "protocol.version")) {
        fatal_ = true;  // retrying cannot help; fail what waits
        std::vector<std::string> queued(queue_.begin(), queue_.end());
        for (const std::string& id : queued) FailRequest(id, e.code, e.message);
      }
      if (on_connection_error) on_connection_error(e);
    }
    return;
  }
  auto it = requests_.find(m.id);
  if (it == requests_.end()) {
    const bool terminal = m.type == "done" || m.type == "error" || m.type == "cancelled";
    if (terminal) abandoned_.erase(m.id);
    return;  // late message of a request that already ended
  }
  Request& r = it->second;
  if (r.timeout_s > 0 && !r.cancel_requested) r.deadline_s = now_s + r.timeout_s;
  const std::string id = m.id;
  if (m.type == "done" || (m.type == "pong" && r.type == "ping")) {
    Completion c;
    c.status = CompletionStatus::Done;
    c.result = std::move(m);
    Complete(id, std::move(c));
  } else if (m.type == "error") {
    Completion c;
    c.status = CompletionStatus::Failed;
    c.error.code = m.data.GetStr("code", "internal");
    c.error.message = m.data.GetStr("message");
    if (const Value* details = m.data.Find("details")) c.error.details = *details;
    Complete(id, std::move(c));
  } else if (m.type == "cancelled") {
    Completion c;
    c.status = CompletionStatus::Cancelled;
    c.result = std::move(m);
    Complete(id, std::move(c));
  } else if (r.handlers.on_event && !r.cancel_requested) {
    // Copy the handler: it may cancel (and erase) this very request.
    std::function<void(const Message&)> on_event = r.handlers.on_event;
    on_event(m);
  }
  if (state_ == ConnectionState::Ready) FlushQueue(now_s);
}

}  // namespace core
}  // namespace atelico
