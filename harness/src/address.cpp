#include "loopspec/address.hpp"

#include <nlohmann/json.hpp>

#include "loopspec/overloaded.hpp"

namespace loopspec {

std::string to_string(const Address& address) {
  return std::visit(Overloaded{[](const InetAddress& a) {
                                 bool v6 = a.host.find(':') != std::string::npos;
                                 return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
                               },
                               [](const UnixAddress& a) { return a.path; }},
                    address);
}

nlohmann::json to_json(const Address& address) {
  return std::visit(Overloaded{[](const InetAddress& a) { return nlohmann::json::array({a.host, a.port}); },
                               [](const UnixAddress& a) { return nlohmann::json(a.path); }},
                    address);
}

}  // namespace loopspec
