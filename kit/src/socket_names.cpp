#include "loopspec/kit/socket_names.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace loopspec::kit {

MaybeError unix_path_error(const std::string& path) {
  if (path.size() < sizeof(sockaddr_un{}.sun_path)) return std::nullopt;
  return Error{"OSError", 0, "AF_UNIX path too long"};
}

void remove_stale_socket_file(const std::string& path) {
  struct stat st {};
  if (!path.empty() && path[0] != '\0' && ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    ::unlink(path.c_str());
  }
}

std::string family_name(int family) {
  switch (family) {
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    case AF_UNIX: return "AF_UNIX";
    default: return "AF_" + std::to_string(family);
  }
}

}  // namespace loopspec::kit
