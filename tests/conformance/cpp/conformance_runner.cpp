// Conformance runner for the Unreal plugin's core client (ClientCore) over websocketpp, the
// transport the end-to-end tests use. Reads the setup JSON written by runner.py (every
// scenario of tests/data/conformance and the scripted server's port for each), plays each
// scenario's client steps, and prints one JSON line: {"<scenario>": <result>, ...}.
//
//   conformance_runner SETUP.json
//
// The asio thread only queues socket events; the main thread ("game thread") pumps them into
// the core and ticks it, as FAtelicoConnection does in Unreal.
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "AtelicoClientCore.h"
#include "AtelicoJson.h"

using namespace atelico::core;
using WsClient = websocketpp::client<websocketpp::config::asio_client>;

namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double g_wait_timeout_s = 8.0;
double g_scenario_timeout_s = 30.0;

class Transport {
 public:
  Transport() {
    ws_.clear_access_channels(websocketpp::log::alevel::all);
    ws_.clear_error_channels(websocketpp::log::elevel::all);
    ws_.init_asio();
    ws_.start_perpetual();
    ws_.set_open_handler([this](websocketpp::connection_hdl h) { Post(Event{Event::Open, {}, Key(h)}); });
    ws_.set_close_handler([this](websocketpp::connection_hdl h) { Post(Event{Event::Close, {}, Key(h)}); });
    ws_.set_fail_handler([this](websocketpp::connection_hdl h) { Post(Event{Event::Close, {}, Key(h)}); });
    ws_.set_message_handler([this](websocketpp::connection_hdl h, WsClient::message_ptr msg) {
      const std::string& p = msg->get_payload();
      Post(Event{Event::Frame, std::vector<uint8_t>(p.begin(), p.end()), Key(h)});
    });
    thread_ = std::thread([this] { ws_.run(); });
  }

  ~Transport() {
    Close(websocketpp::close::status::going_away, "bye");
    ws_.stop_perpetual();
    ws_.stop();
    thread_.join();
  }

  /** Starts a new connection; events of older connections are dropped from now on. */
  bool Connect(int port) {
    websocketpp::lib::error_code ec;
    WsClient::connection_ptr con = ws_.get_connection("ws://127.0.0.1:" + std::to_string(port) + "/v1/ws", ec);
    if (ec) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      hdl_ = con->get_handle();
      current_ = con.get();
    }
    ws_.connect(con);
    return true;
  }

  bool Send(const std::vector<uint8_t>& frame) {
    websocketpp::lib::error_code ec;
    ws_.send(hdl_, frame.data(), frame.size(), websocketpp::frame::opcode::binary, ec);
    return !ec;
  }

  void Close(uint16_t code, const std::string& reason) {
    websocketpp::lib::error_code ec;
    ws_.close(hdl_, code, reason, ec);
  }

  /** Feeds queued events of the current connection into the core, then ticks it. */
  void Pump(ClientCore& core, double wait_s) {
    std::deque<Event> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait_for(lock, std::chrono::duration<double>(wait_s), [this] { return !events_.empty(); });
      batch.swap(events_);
    }
    for (Event& e : batch) {
      if (e.source != current_) continue;
      if (e.kind == Event::Open) core.OnOpened(NowSeconds());
      else if (e.kind == Event::Close) core.OnClosed("socket closed");
      else core.OnFrame(e.bytes.data(), e.bytes.size(), NowSeconds());
    }
    core.Tick(NowSeconds());
  }

 private:
  struct Event {
    enum Kind { Open, Close, Frame } kind;
    std::vector<uint8_t> bytes;
    const void* source;
  };
  const void* Key(websocketpp::connection_hdl h) {
    return ws_.get_con_from_hdl(h).get();
  }
  void Post(Event e) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      events_.emplace_back(std::move(e));
    }
    cv_.notify_all();
  }

  WsClient ws_;
  const void* current_ = nullptr;
  websocketpp::connection_hdl hdl_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Event> events_;
};

struct RequestState {
  std::string id;
  int chunks = 0;
  bool done = false;
};

Value Completion(const std::string& name, const char* kind, const std::string& code, int chunks) {
  Value c = Value::Map();
  c.Set("request", Value::Str(name));
  c.Set("kind", Value::Str(kind));
  c.Set("code", Value::Str(code));
  c.Set("chunks", Value::Int(chunks));
  return c;
}

Value RunScenario(const Value& scenario, int port) {
  Value result = Value::Map();
  Value connects = Value::Array();
  Value completions = Value::Array();
  Value errors = Value::Array();
  const double scenario_deadline = NowSeconds() + g_scenario_timeout_s;
  std::map<std::string, std::shared_ptr<RequestState>> requests;
  Transport transport;
  std::unique_ptr<ClientCore> core;

  auto pump_until = [&](const std::function<bool()>& cond, const std::string& what) {
    const double deadline = std::min(NowSeconds() + g_wait_timeout_s, scenario_deadline);
    while (!cond()) {
      if (NowSeconds() > deadline) {
        errors.Push(Value::Str("timed out waiting for " + what));
        return false;
      }
      transport.Pump(*core, 0.005);
    }
    return true;
  };

  for (const Value& step : scenario.Find("client")->Items()) {
    const std::string op = step.GetStr("do");
    if (op == "connect" || op == "reconnect") {
      if (!core) {
        ClientOptions options;
        options.client_name = "conformance-cpp";
        options.handshake_timeout_s = static_cast<double>(step.GetInt("handshake_timeout_ms", 10000)) / 1000.0;
        core.reset(new ClientCore(
            options, [&transport](std::vector<uint8_t>&& frame) { return transport.Send(frame); },
            [&transport](int code, const std::string& reason) {
              transport.Close(static_cast<uint16_t>(code), reason);
            }));
      }
      core->OnConnecting();
      if (!transport.Connect(port)) {
        errors.Push(Value::Str("websocketpp could not create the connection"));
        break;
      }
      pump_until([&] { return core->State() == ConnectionState::Ready ||
                              core->State() == ConnectionState::Disconnected; },
                 "the handshake");
      connects.Push(Value::Str(core->State() == ConnectionState::Ready ? "ok" : core->LastConnectionError().code));
    } else if (!core) {
      errors.Push(Value::Str("step " + WriteJson(step) + " needs a connected client"));
      break;
    } else if (op == "send") {
      const std::string name = step.GetStr("request");
      auto state = std::make_shared<RequestState>();
      requests[name] = state;
      RequestHandlers handlers;
      handlers.on_event = [state](const Message&) { state->chunks += 1; };
      handlers.on_complete = [state, name, &completions](const atelico::core::Completion& c) {
        state->done = true;
        if (c.status == CompletionStatus::Done) completions.Push(Completion(name, "done", "", state->chunks));
        else if (c.status == CompletionStatus::Cancelled) completions.Push(Completion(name, "cancelled", "", state->chunks));
        else completions.Push(Completion(name, "error", c.error.code, state->chunks));
      };
      const Value* data = step.Find("data");
      const double timeout_s = step.Find("timeout_ms") ? static_cast<double>(step.GetInt("timeout_ms")) / 1000.0 : -1.0;
      state->id = core->Start(step.GetStr("type"), data ? *data : Value::Map(), nullptr, handlers, NowSeconds(), timeout_s);
    } else if (op == "cancel") {
      core->Cancel(requests[step.GetStr("request")]->id, NowSeconds());
    } else if (op == "wait") {
      const std::string name = step.GetStr("request");
      std::shared_ptr<RequestState> state = requests[name];
      if (step.Find("chunks")) {
        const int64_t n = step.GetInt("chunks");
        pump_until([&] { return state->chunks >= n || state->done; }, std::to_string(n) + " chunks of " + name);
      } else {
        pump_until([&] { return state->done; }, "the completion of " + name);
      }
    } else if (op == "close") {
      core->Close("closed by the game");
    } else {
      errors.Push(Value::Str("unknown step " + WriteJson(step)));
    }
  }
  if (core) {
    pump_until([&] {
      for (const auto& r : requests) if (!r.second->done) return false;
      return true;
    }, "every request to complete");
    core->Close("end of scenario");
  }
  result.Set("connects", std::move(connects));
  result.Set("completions", std::move(completions));
  result.Set("errors", std::move(errors));
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: conformance_runner SETUP.json\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Value setup;
  std::string error;
  if (!ParseJson(text, setup, error)) {
    std::cerr << "bad setup: " << error << "\n";
    return 2;
  }
  g_wait_timeout_s = static_cast<double>(setup.GetInt("wait_timeout_ms", 8000)) / 1000.0;
  g_scenario_timeout_s = static_cast<double>(setup.GetInt("scenario_timeout_ms", 30000)) / 1000.0;
  const Value* ports = setup.Find("ports");
  Value results = Value::Map();
  for (const Value& scenario : setup.Find("scenarios")->Items()) {
    const std::string name = scenario.GetStr("name");
    results.Set(name, RunScenario(scenario, static_cast<int>(ports->GetInt(name))));
  }
  std::cout << WriteJson(results) << std::endl;
  return 0;
}
