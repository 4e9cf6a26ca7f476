// bench/api's load generator: N concurrent gRPC clients each make M calls of one kind to a
// running comet-api-service and report latency percentiles; or one ListenEvents client that
// reports how long each event took from the moment it was logged (its time_ns in the event log
// file) to its arrival. Used by bench/api/run.sh; prints one line of key=value figures.
//
// usage: api_load --target ADDR list [--detail] [--annotation K=V] [--clients N] [--calls M]
//        api_load --target ADDR inspect --ids FILE [--clients N] [--calls M]
//        api_load --target ADDR events --data-dir DIR --count N [--timeout-s S]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "v1alpha/api.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string target = "127.0.0.1:15441";
  std::string mode;
  bool detail = false;
  std::string annotation;
  std::string ids_file;
  std::string data_dir;
  int clients = 4;
  int calls = 1000;
  int count = 100;
  int timeout_s = 120;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr, "api_load: %s\n", why);
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage(("missing value for " + arg).c_str());
      }
      return argv[++i];
    };
    if (arg == "--target") {
      args.target = value();
    } else if (arg == "--detail") {
      args.detail = true;
    } else if (arg == "--annotation") {
      args.annotation = value();
    } else if (arg == "--ids") {
      args.ids_file = value();
    } else if (arg == "--data-dir") {
      args.data_dir = value();
    } else if (arg == "--clients") {
      args.clients = std::stoi(value());
    } else if (arg == "--calls") {
      args.calls = std::stoi(value());
    } else if (arg == "--count") {
      args.count = std::stoi(value());
    } else if (arg == "--timeout-s") {
      args.timeout_s = std::stoi(value());
    } else if (args.mode.empty() && arg[0] != '-') {
      args.mode = arg;
    } else {
      Usage(("unknown argument " + arg).c_str());
    }
  }
  if (args.mode != "list" && args.mode != "inspect" && args.mode != "events") {
    Usage("mode must be list, inspect or events");
  }
  return args;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

void PrintFigures(const std::string& what, const std::vector<double>& ms, int errors,
                  size_t items) {
  std::printf("%s calls=%zu errors=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f items=%zu\n",
              what.c_str(), ms.size(), errors, Percentile(ms, 0.50), Percentile(ms, 0.99),
              ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()), items);
}

// Runs `call` clients x calls times, each client on its own channel and thread.
template <typename Call>
int RunClients(const Args& args, const std::string& what, Call call) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(args.clients));
  std::atomic<int> errors{0};
  std::atomic<size_t> items{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < args.clients; ++c) {
    threads.emplace_back([&, c] {
      auto channel = grpc::CreateChannel(args.target, grpc::InsecureChannelCredentials());
      auto stub = v1alpha::PublicAPI::NewStub(channel);
      std::mt19937 random(static_cast<unsigned>(c));
      auto& mine = latencies[static_cast<size_t>(c)];
      for (int i = 0; i < args.calls; ++i) {
        const auto start = Clock::now();
        size_t got = 0;
        if (!call(*stub, random, got)) {
          ++errors;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        items = got;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::vector<double> all;
  for (const auto& mine : latencies) {
    all.insert(all.end(), mine.begin(), mine.end());
  }
  PrintFigures(what, all, errors.load(), items.load());
  return errors.load() == 0 ? 0 : 1;
}

int ListLoad(const Args& args) {
  v1alpha::ListPodsRequest request;
  request.set_detail(args.detail);
  std::string what = args.detail ? "list_pods_detail" : "list_pods";
  if (!args.annotation.empty()) {
    const size_t eq = args.annotation.find('=');
    v1alpha::KeyValue* kv = request.add_filters()->add_annotations();
    kv->set_key(args.annotation.substr(0, eq));
    kv->set_value(eq == std::string::npos ? "" : args.annotation.substr(eq + 1));
    what = "list_pods_annotation";
  }
  return RunClients(args, what, [&](v1alpha::PublicAPI::Stub& stub, std::mt19937&, size_t& got) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1alpha::ListPodsResponse response;
    grpc::Status status = stub.ListPods(&context, request, &response);
    got = static_cast<size_t>(response.pods_size());
    return status.ok();
  });
}

int InspectLoad(const Args& args) {
  std::vector<std::string> ids;
  std::ifstream in(args.ids_file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      ids.push_back(line);
    }
  }
  if (ids.empty()) {
    Usage("no ids in --ids");
  }
  return RunClients(
      args, "inspect_pod", [&](v1alpha::PublicAPI::Stub& stub, std::mt19937& random, size_t& got) {
        v1alpha::InspectPodRequest request;
        request.set_id(ids[random() % ids.size()]);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1alpha::InspectPodResponse response;
        grpc::Status status = stub.InspectPod(&context, request, &response);
        got = static_cast<size_t>(response.pod().apps_size());
        return status.ok();
      });
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The logged time of (type number, id) from <data dir>/events/log{.1,}: the moment the writer
// recorded the state change, with nanoseconds (the wire carries seconds only).
std::map<std::pair<int, std::string>, int64_t> LoggedTimes(const std::string& data_dir) {
  static const std::map<std::string, int> kTypes = {
      {"pod-prepared", 1}, {"pod-prepare-aborted", 2},   {"pod-started", 3},
      {"pod-exited", 4},   {"pod-garbage-collected", 5}, {"app-started", 6},
      {"app-exited", 7},   {"image-imported", 8},        {"image-removed", 9}};
  std::map<std::pair<int, std::string>, int64_t> times;
  for (const char* name : {"/events/log.1", "/events/log"}) {
    std::ifstream in(data_dir + name);
    for (std::string line; std::getline(in, line);) {
      auto doc = nlohmann::json::parse(line, nullptr, false);
      if (!doc.is_object() || !doc.contains("type") || !doc.contains("id")) {
        continue;
      }
      auto type = kTypes.find(doc["type"].get<std::string>());
      if (type != kTypes.end()) {
        times[{type->second, doc["id"].get<std::string>()}] = doc["time"].get<int64_t>();
      }
    }
  }
  return times;
}

int EventsLoad(const Args& args) {
  if (args.data_dir.empty()) {
    Usage("events needs --data-dir");
  }
  auto channel = grpc::CreateChannel(args.target, grpc::InsecureChannelCredentials());
  auto stub = v1alpha::PublicAPI::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(args.timeout_s));
  v1alpha::ListenEventsRequest request;
  // Only what happens from now on: the replay of older events is not a delay.
  request.mutable_filter()->set_since_time(std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
  auto reader = stub->ListenEvents(&context, request);
  std::printf("listening\n");
  std::fflush(stdout);
  std::vector<std::pair<std::pair<int, std::string>, int64_t>> arrivals;
  v1alpha::ListenEventsResponse response;
  const int64_t start_ns = NowNs();
  while (static_cast<int>(arrivals.size()) < args.count && reader->Read(&response)) {
    const int64_t now = NowNs();
    for (const auto& event : response.events()) {
      arrivals.push_back({{static_cast<int>(event.type()), event.id()}, now});
    }
  }
  context.TryCancel();
  auto logged = LoggedTimes(args.data_dir);
  std::vector<double> delays;
  for (const auto& [key, arrived] : arrivals) {
    auto it = logged.find(key);
    if (it != logged.end() && it->second >= start_ns - 1'000'000'000) {
      delays.push_back(static_cast<double>(arrived - it->second) / 1e6);
    }
  }
  PrintFigures("event_delay", delays, static_cast<int>(arrivals.size() - delays.size()),
               arrivals.size());
  return static_cast<int>(arrivals.size()) >= args.count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  if (args.mode == "list") {
    return ListLoad(args);
  }
  if (args.mode == "inspect") {
    return InspectLoad(args);
  }
  return EventsLoad(args);
}
