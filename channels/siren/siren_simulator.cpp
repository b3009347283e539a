#include "channels/siren/siren_simulator.hpp"

#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <vector>

#include <modbus/modbus.h>

namespace tocsin::channels::siren {

SirenSimulator::SirenSimulator(std::string host, int port, std::string profile)
    : host_(std::move(host)), port_(port), profile_(std::move(profile)) {}

bool SirenSimulator::run(std::string& error) {
  modbus_t* ctx = modbus_new_tcp(host_.c_str(), port_);
  modbus_mapping_t* map = modbus_mapping_new(16, 0, 32, 0);
  if (!ctx || !map) {
    error = "cannot allocate the Modbus server";
    return false;
  }
  int server = modbus_tcp_listen(ctx, 16);
  if (server == -1) {
    error = "listen " + host_ + ":" + std::to_string(port_) + ": " + modbus_strerror(errno);
    modbus_mapping_free(map);
    modbus_free(ctx);
    return false;
  }
  auto* regs = map->tab_registers;
  regs[11] = 1;                      // on mains
  regs[12] = 100;                    // battery %
  std::deque<std::uint16_t> recent;  // sequences applied lately: a repeat of one changes nothing
  auto sounding_until = std::chrono::steady_clock::now();
  const bool fs = profile_ == "federal-signal";

  fd_set all;
  FD_ZERO(&all);
  FD_SET(server, &all);
  int max_fd = server;
  std::vector<std::uint8_t> query(MODBUS_TCP_MAX_ADU_LENGTH);
  const int header = modbus_get_header_length(ctx);

  while (!stopping_) {
    fd_set ready = all;
    timeval tv{0, 200'000};  // look at stopping_ five times a second
    int n = select(max_fd + 1, &ready, nullptr, nullptr, &tv);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    for (int fd = 0; fd <= max_fd; ++fd) {
      if (!FD_ISSET(fd, &ready)) continue;
      if (fd == server) {
        int client = accept(server, nullptr, nullptr);
        if (client >= 0) {
          FD_SET(client, &all);
          max_fd = std::max(max_fd, client);
        }
        continue;
      }
      modbus_set_socket(ctx, fd);
      int rc = modbus_receive(ctx, query.data());
      if (rc <= 0) {
        if (rc == -1) {
          close(fd);
          FD_CLR(fd, &all);
        }
        continue;
      }
      if (!fs && regs[10] != 0 && std::chrono::steady_clock::now() >= sounding_until)
        regs[10] = 0;  // the pattern ran its duration
      modbus_reply(ctx, query.data(), rc, map);
      int function = query[header];
      int address = (query[header + 1] << 8) | query[header + 2];
      bool wrote = function == 0x06 || function == 0x10;
      if (!wrote) continue;
      if (!fs && address <= 2 && regs[2] != 0) {
        if (std::find(recent.begin(), recent.end(), regs[2]) == recent.end()) {
          recent.push_back(regs[2]);
          if (recent.size() > 16) recent.pop_front();
          std::uint16_t command = regs[0];
          if (command >= 1 && command <= 4) {
            regs[10] = command;
            sounding_until = std::chrono::steady_clock::now() + std::chrono::seconds(regs[1]);
          } else if (command == 5) {
            regs[10] = 0;  // all-clear
          }
          ++applied_;
        }
        regs[14] = regs[2];  // acknowledged, applied now or before
      } else if (fs && address == 2 && regs[3] == 0) {
        map->tab_bits[0] = 1;  // armed, then a tone: activation detected
        ++applied_;
      } else if (fs && address == 3 && regs[3] == 3) {
        map->tab_bits[0] = 0;  // cancel
        ++applied_;
      }
    }
  }
  for (int fd = 0; fd <= max_fd; ++fd)
    if (FD_ISSET(fd, &all)) close(fd);
  modbus_mapping_free(map);
  modbus_free(ctx);
  return true;
}

}  // namespace tocsin::channels::siren
