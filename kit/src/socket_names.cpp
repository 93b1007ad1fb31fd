#include "loopspec/kit/socket_names.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <utility>

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

int stream_socket_family(int fd, Error& error) {
  int type = 0;
  int family = 0;
  socklen_t length = sizeof type;
  socklen_t family_length = sizeof family;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) < 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &family_length) < 0) {
    error = Error::from_errno(errno);
    return -1;
  }
  if (type != SOCK_STREAM) {
    error = Error{"ValueError", 0, "A Stream Socket was expected, got socket type " + std::to_string(type)};
    return -1;
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return family;
}

std::string bind_error_message(const Address& where, std::string reason) {
  std::transform(reason.begin(), reason.end(), reason.begin(), [](unsigned char c) { return std::tolower(c); });
  return "error while attempting to bind on address '" + to_string(where) + "': " + reason;
}

void ServerSocketFile::remember(const std::string& path) {
  struct stat st {};
  if (!path.empty() && path[0] != '\0' && ::stat(path.c_str(), &st) == 0) file_ = File{path, st.st_dev, st.st_ino};
}

void ServerSocketFile::remove() {
  auto file = std::exchange(file_, std::nullopt);
  struct stat now {};
  if (file && ::stat(file->path.c_str(), &now) == 0 && now.st_dev == file->device && now.st_ino == file->inode) {
    ::unlink(file->path.c_str());
  }
}

}  // namespace loopspec::kit
