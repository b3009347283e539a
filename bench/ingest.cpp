// bench/ingest: drives a tocsin broker with N DEALER clients over ZeroMQ and reports
// acknowledged incidents per second and the acknowledgement latency distribution.
//
//   ingest --endpoint tcp://127.0.0.1:5555 --clients 4 --count 200000 --window 1000
//   ingest --endpoint tcp://127.0.0.1:5555 --clients 4 --rate 5000 --seconds 20
//
// Closed loop (default): each client keeps --window requests outstanding.
// Open loop (--rate): requests leave on a fixed schedule whatever the replies do, and latency is
// measured from the scheduled time, so a stall is not hidden (no coordinated omission).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <sys/timerfd.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <zmq.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct ClientResult {
  std::vector<double> latencies_us;
  long errors = 0;
  long timeouts = 0;
};

// storm (--storm): every report matches the shipped flood-riverside playbook (which pages the
// duty officers by SMS, e-mail and console), each a new incident.
std::string report_json(int client, long i, bool storm) {
  if (storm)
    return R"({"source":"bench-)" + std::to_string(client) +
           R"(","type":"flood.water_level","severity":"severe","location":{"zone":"riverside"},)"
           R"("attributes":{"level_m":4.2},"dedup_key":"storm-)" +
           std::to_string(client) + "-" + std::to_string(i) + R"("})";
  return R"({"source":"bench-)" + std::to_string(client) +
         R"(","type":"bench.reading","severity":"minor","location":{"zone":"bench"},)"
         R"("attributes":{"value":)" +
         std::to_string(i % 1000) + R"(},"dedup_key":"bench-)" + std::to_string(client) + "-" +
         std::to_string(i) + R"("})";
}

// Reads every reply waiting on s: latency from its send time, errors counted.
// CurveZMQ (ingest.zmq.curve), when --server-key is given: this client's keys and the broker's.
struct Curve {
  std::string server_key, public_key, secret_key;
};
Curve curve;

void setup(zmq::socket_t& s) {
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::sndhwm, 0);
  s.set(zmq::sockopt::rcvhwm, 0);
  if (curve.server_key.empty()) return;
  s.set(zmq::sockopt::curve_serverkey, curve.server_key);
  s.set(zmq::sockopt::curve_publickey, curve.public_key);
  s.set(zmq::sockopt::curve_secretkey, curve.secret_key);
}

long drain_replies(zmq::socket_t& s, const std::vector<Clock::time_point>& sent_at,
                   ClientResult& out) {
  long n = 0;
  for (;;) {
    zmq::message_t rid, status;
    if (!s.recv(rid, zmq::recv_flags::dontwait)) return n;
    bool more = rid.more(), ok = false;
    if (more) {
      (void)s.recv(status);
      ok = status.to_string_view() == "ok";
      more = status.more();
    }
    while (more) {
      zmq::message_t rest;
      (void)s.recv(rest);
      more = rest.more();
    }
    out.latencies_us.push_back(std::chrono::duration<double, std::micro>(
                                   Clock::now() - sent_at[std::stol(rid.to_string())])
                                   .count());
    if (!ok) ++out.errors;
    ++n;
  }
}

void run_client(zmq::context_t& ctx, const std::string& endpoint, int client, long count,
                int window, bool storm, ClientResult& out) {
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  setup(s);
  s.connect(endpoint);
  std::vector<Clock::time_point> sent_at(count);
  out.latencies_us.reserve(count);
  long next = 0, received = 0;
  auto last_progress = Clock::now();

  while (received < count) {
    for (; next < count && next - received < window; ++next) {
      sent_at[next] = Clock::now();
      std::string rid = std::to_string(next);
      std::string body = report_json(client, next, storm);
      s.send(zmq::buffer(rid), zmq::send_flags::sndmore);
      s.send(zmq::buffer(body), zmq::send_flags::none);
    }
    zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (long n = drain_replies(s, sent_at, out); n > 0) {
      received += n;
      last_progress = Clock::now();
    }
    if (Clock::now() - last_progress > std::chrono::seconds(10)) {
      out.timeouts = count - received;
      break;
    }
  }
}

// Open loop: one thread drives every client socket. A timerfd (microsecond precision, unlike
// zmq_poll's milliseconds) wakes it when the next request is due; replies wake it too. Requests
// go round-robin over the clients at `rate` per second in all.
void run_open_loop(zmq::context_t& ctx, const std::string& endpoint, int clients, long count,
                   double rate, bool storm, Clock::time_point start, ClientResult& out) {
  std::vector<zmq::socket_t> sockets;
  for (int c = 0; c < clients; ++c) {
    sockets.emplace_back(ctx, zmq::socket_type::dealer);
    setup(sockets.back());
    sockets.back().connect(endpoint);
  }
  int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  std::vector<zmq::pollitem_t> items;
  for (auto& s : sockets) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
  items.push_back({nullptr, timer, ZMQ_POLLIN, 0});
  std::vector<Clock::time_point> sent_at(count);
  out.latencies_us.reserve(count);
  auto interval = std::chrono::duration<double>(1.0 / rate);
  auto due_of = [&](long i) {
    return start + std::chrono::duration_cast<Clock::duration>(interval * double(i));
  };
  long next = 0, received = 0;
  auto last_progress = Clock::now();
  while (received < count) {
    auto now = Clock::now();
    for (; next < count && due_of(next) <= now; ++next) {
      sent_at[next] = due_of(next);
      std::string rid = std::to_string(next);
      std::string body = report_json(int(next % clients), next, storm);
      auto& s = sockets[next % clients];
      s.send(zmq::buffer(rid), zmq::send_flags::sndmore);
      s.send(zmq::buffer(body), zmq::send_flags::none);
    }
    if (next < count) {
      auto ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(due_of(next).time_since_epoch())
              .count();
      itimerspec when{};
      when.it_value.tv_sec = ns / 1'000'000'000;
      when.it_value.tv_nsec = ns % 1'000'000'000;
      timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, nullptr);
    }
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
    if (items.back().revents & ZMQ_POLLIN) {
      std::uint64_t expirations;
      (void)!read(timer, &expirations, sizeof expirations);
    }
    for (auto& s : sockets) {
      if (long n = drain_replies(s, sent_at, out); n > 0) {
        received += n;
        last_progress = Clock::now();
      }
    }
    if (Clock::now() - last_progress > std::chrono::seconds(10)) {
      out.timeouts = count - received;
      break;
    }
  }
  close(timer);
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::size_t k = std::min(v.size() - 1, std::size_t(p / 100.0 * double(v.size())));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Drive a tocsin broker over ZeroMQ and measure acknowledged throughput and latency"};
  std::string endpoint = "tcp://127.0.0.1:5555";
  int clients = 4, window = 1000;
  long count = 200000;
  double rate = 0, seconds = 20;
  app.add_option("--endpoint", endpoint)->capture_default_str();
  app.add_option("--clients", clients)->capture_default_str();
  app.add_option("--count", count, "total incidents (closed loop)")->capture_default_str();
  app.add_option("--window", window, "outstanding requests per client (closed loop)")
      ->capture_default_str();
  app.add_option("--rate", rate, "offered incidents per second, all clients (open loop)");
  app.add_option("--seconds", seconds, "duration of the open-loop run")->capture_default_str();
  bool storm = false;
  app.add_flag("--storm", storm, "every report matches flood-riverside (the shipped playbooks)");
  std::string secret_env;
  app.add_option("--server-key", curve.server_key, "the broker's CURVE public key (Z85)");
  app.add_option("--secret-key-env", secret_env, "the variable holding this client's secret key");
  CLI11_PARSE(app, argc, argv);
  if (!curve.server_key.empty()) {
    const char* secret = std::getenv(secret_env.c_str());
    char public_key[41];
    if (!secret || zmq_curve_public(public_key, secret) != 0) {
      std::fprintf(stderr, "--secret-key-env must name a variable holding a CURVE secret key\n");
      return 64;
    }
    curve.secret_key = secret;
    curve.public_key = public_key;
  }

  zmq::context_t ctx(1);  // one I/O thread for all clients: the broker needs the cores
  auto start = Clock::now() + std::chrono::milliseconds(200);  // let every client connect
  std::vector<ClientResult> results(rate > 0 ? 1 : clients);
  if (rate > 0) {
    run_open_loop(ctx, endpoint, clients, long(rate * seconds), rate, storm, start, results[0]);
  } else {
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([&, c] {
        std::this_thread::sleep_until(start);
        run_client(ctx, endpoint, c, count / clients, window, storm, results[c]);
      });
    for (auto& t : threads) t.join();
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> all;
  long errors = 0, timeouts = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    errors += r.errors;
    timeouts += r.timeouts;
  }
  long acked = long(all.size()) - errors;
  std::printf("mode: %s, clients: %d, %s\n", rate > 0 ? "open loop" : "closed loop", clients,
              rate > 0 ? ("offered " + std::to_string(long(rate)) + "/s").c_str()
                       : ("window " + std::to_string(window) + " per client").c_str());
  std::printf("acknowledged: %ld in %.2f s = %.0f incidents/s (errors %ld, unanswered %ld)\n",
              acked, elapsed, double(acked) / elapsed, errors, timeouts);
  std::printf("ack latency: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n",
              percentile(all, 50) / 1000, percentile(all, 99) / 1000, percentile(all, 99.9) / 1000,
              all.empty() ? 0 : *std::max_element(all.begin(), all.end()) / 1000);
  return errors == 0 && timeouts == 0 ? 0 : 1;
}
