// File: plugin_main/metrics_server.h
//
// Serves Prometheus text exposition on a loopback port: `GET /metrics` answers with
// whatever the render function returns, anything else 404. It binds 127.0.0.1 only (the
// counters are for a local scraper or an SSH tunnel, not the network) and handles one
// short request at a time on its own thread.
//
// No HTTP server library is packaged for production here (cpp-httplib is kept for test
// servers), and this endpoint needs one fixed GET, so it is a small accept loop.
//
// Example:
//   plugin_main::MetricsServer metrics([&] { return RenderPrometheus(service); });
//   if (absl::Status s = metrics.Start(9464); !s.ok()) log.Error(s.message());
//   ...
//   metrics.Stop();
//
// Status codes: kInvalidArgument for a port outside 1..65535, kUnavailable when the port
// cannot be bound. Thread-safe.
#ifndef PLUGIN_MAIN_METRICS_SERVER_H_
#define PLUGIN_MAIN_METRICS_SERVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace plugin_main {

class MetricsServer {
 public:
  explicit MetricsServer(std::function<std::string()> render) : render_(std::move(render)) {}
  ~MetricsServer() { Stop(); }
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds 127.0.0.1:`port` (0 picks a free port; see port()) and starts serving.
  absl::Status Start(int port) {
    if (port < 0 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics_port ", port, " is not a port; use 1..65535, or 0 for off"));
    }
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd_, 16) != 0) {
      int err = errno;
      ::close(fd_);
      fd_ = -1;
      return absl::UnavailableError(absl::StrCat("cannot listen on 127.0.0.1:", port, " for "
                                                 "metrics: ", std::strerror(err),
                                                 "; choose another metrics_port"));
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
    return absl::OkStatus();
  }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int port() const { return port_; }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      timeval timeout{2, 0};
      ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      std::string request;
      char buffer[2048];
      while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
        ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      std::string response;
      if (absl::StartsWith(request, "GET /metrics ") || absl::StartsWith(request, "GET /metrics?")) {
        std::string body = render_();
        response = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                                "Content-Length: ", body.size(), "\r\nConnection: close\r\n\r\n",
                                body);
      } else {
        response = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      }
      size_t sent = 0;
      while (sent < response.size()) {
        ssize_t n = ::send(client, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
      ::close(client);
    }
  }

  std::function<std::string()> render_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_METRICS_SERVER_H_
