// SPDX-License-Identifier: Apache-2.0

// The scrape ceiling for bench/run goal 3: a bare prometheus-cpp Exposer + Registry
// serving the same metric families and series as a running hbfence.
//
//   bare_exposer SCRAPE.txt [LISTEN_ADDRESS]      (default 127.0.0.1:0)
//
// SCRAPE.txt is a /metrics body scraped from hbfence. Every family in it (counters,
// gauges, histograms with their exact bucket boundaries and label sets, process_*
// included as plain series) is registered in a prometheus::Registry, which is served
// through an Exposer with the options hbfence's HttpServer uses (metrics/http_server.cc:
// num_threads 16, backlog 64, no keep-alive). What it does not have is hbfence's own cost:
// the begin_request callback, the /proc/self collector read on every scrape, and the
// daemon's threads competing for the CPU. Prints "(port N)" once serving; runs until
// SIGTERM/SIGINT. The Exposer's own exposer_* families come from its Exposer, as in
// hbfence, and are not copied from the scrape.
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <signal.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Sample {
  std::string name;
  prometheus::Labels labels;
  double value;
};

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      out += s[i] == 'n' ? '\n' : s[i];
    } else {
      out += s[i];
    }
  }
  return out;
}

bool ParseSample(const std::string& line, Sample* out) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  out->name = line.substr(0, i);
  out->labels.clear();
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const size_t eq = line.find('=', i);
      if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
      const std::string key = line.substr(i, eq - i);
      std::string value;
      size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          value += line[j] == 'n' ? '\n' : line[j];
        } else {
          value += line[j];
        }
      }
      if (j >= line.size()) return false;
      out->labels[key] = value;
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    ++i;  // '}'
  }
  while (i < line.size() && line[i] == ' ') ++i;
  const std::string v = line.substr(i, line.find(' ', i) - i);
  if (v == "+Inf") out->value = INFINITY;
  else if (v == "-Inf") out->value = -INFINITY;
  else if (v == "NaN") out->value = NAN;
  else out->value = std::strtod(v.c_str(), nullptr);
  return true;
}

struct Hist {
  std::vector<double> bounds;       // finite le values, in order
  std::vector<double> cumulative;   // counts for bounds, then +Inf
  double sum = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bare_exposer SCRAPE.txt [LISTEN_ADDRESS]\n");
    return 2;
  }
  const std::string listen = argc > 2 ? argv[2] : "127.0.0.1:0";
  std::ifstream in(argv[1]);
  if (!in) {
    std::perror(argv[1]);
    return 1;
  }
  auto registry = std::make_shared<prometheus::Registry>();
  std::map<std::string, std::string> help, type;
  std::vector<std::string> order;
  std::vector<Sample> samples;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0) {
      const size_t sp = line.find(' ', 7);
      const std::string name = line.substr(7, sp - 7);
      help[name] = sp == std::string::npos ? "" : Unescape(line.substr(sp + 1));
    } else if (line.rfind("# TYPE ", 0) == 0) {
      const size_t sp = line.find(' ', 7);
      const std::string name = line.substr(7, sp - 7);
      type[name] = line.substr(sp + 1);
      order.push_back(name);
    } else if (!line.empty() && line[0] != '#') {
      Sample s;
      if (ParseSample(line, &s)) samples.push_back(std::move(s));
    }
  }
  size_t series = 0;
  for (const auto& name : order) {
    // exposer_* are the Exposer's own metrics: ours serves its own, like hbfence's.
    if (name.rfind("exposer_", 0) == 0) continue;
    const std::string& t = type[name];
    if (t == "counter") {
      auto& fam = prometheus::BuildCounter().Name(name).Help(help[name]).Register(*registry);
      for (const auto& s : samples) {
        if (s.name == name) {
          fam.Add(s.labels).Increment(s.value);
          ++series;
        }
      }
    } else if (t == "gauge" || t == "untyped") {
      auto& fam = prometheus::BuildGauge().Name(name).Help(help[name]).Register(*registry);
      for (const auto& s : samples) {
        if (s.name == name) {
          fam.Add(s.labels).Set(s.value);
          ++series;
        }
      }
    } else if (t == "histogram") {
      auto& fam = prometheus::BuildHistogram().Name(name).Help(help[name]).Register(*registry);
      std::map<prometheus::Labels, Hist> hists;
      for (const auto& s : samples) {
        if (s.name == name + "_bucket") {
          auto labels = s.labels;
          const std::string le = labels["le"];
          labels.erase("le");
          auto& h = hists[labels];
          if (le != "+Inf") h.bounds.push_back(std::strtod(le.c_str(), nullptr));
          h.cumulative.push_back(s.value);
        } else if (s.name == name + "_sum") {
          hists[s.labels].sum = s.value;
        }
      }
      for (auto& [labels, h] : hists) {
        auto& hist = fam.Add(labels, h.bounds);
        std::vector<double> inc(h.cumulative.size());
        for (size_t i = 0; i < inc.size(); ++i) inc[i] = h.cumulative[i] - (i ? h.cumulative[i - 1] : 0);
        hist.ObserveMultiple(inc, h.sum);
        ++series;
      }
    } else {
      std::fprintf(stderr, "bare_exposer: skipping %s of type %s\n", name.c_str(), t.c_str());
    }
  }

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  // The same civetweb options as hbfence's HttpServer::Start.
  prometheus::Exposer exposer(std::vector<std::string>{"listening_ports", listen, "num_threads", "16",
                                                       "request_timeout_ms", "1000", "enable_keep_alive", "no",
                                                       "listen_backlog", "64", "connection_queue", "20",
                                                       "max_request_size", "8192", "enable_directory_listing", "no"});
  exposer.RegisterCollectable(registry);
  const auto ports = exposer.GetListeningPorts();
  std::printf("bare_exposer: %zu families, %zu series, serving (port %d)\n", order.size(), series,
              ports.empty() ? 0 : ports.front());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&sigs, &sig);
  return 0;
}
