// What asyncio says about socket names, whatever the loop's socket API.
//
// Promises:
// - unix_path_error: asyncio's OSError("AF_UNIX path too long") for a path
//   that sockaddr_un cannot hold (some libraries would silently truncate it
//   or throw their own error), nullopt for one that fits.
// - remove_stale_socket_file: a socket file left at path by an earlier
//   server goes, as asyncio removes it before bind; anything else there
//   (and an abstract name, with its leading NUL) stays, and bind fails.
// - stream_socket_family: connect_accepted_socket's check of its fd: a
//   stream socket's family (AF_INET, AF_INET6, AF_UNIX), the fd made
//   close-on-exec; -1 and the canonical error otherwise (the errno's, or
//   ValueError "A Stream Socket was expected, got socket type N"). It never
//   closes fd.
// - family_name: "AF_INET", "AF_INET6", "AF_UNIX" (or "AF_<number>"), as
//   get_extra_info('socket') names the family.
// - bind_error_message: asyncio's message for a failed bind, "error while
//   attempting to bind on address '<address>': <reason>", the reason in
//   lower case.
// - ServerSocketFile: the socket file a Unix server's bind made.
//   remember(path) after the bind notes the file (not an abstract name, nor
//   a file that is not there); remove() unlinks it, once, if it is still the
//   same file (device and inode): another server may have replaced it
//   (asyncio 3.13's cleanup_socket).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "loopspec/address.hpp"
#include "loopspec/error.hpp"

namespace loopspec::kit {

MaybeError unix_path_error(const std::string& path);
void remove_stale_socket_file(const std::string& path);
std::string family_name(int family);
int stream_socket_family(int fd, Error& error);
std::string bind_error_message(const Address& where, std::string reason);

class ServerSocketFile {
 public:
  void remember(const std::string& path);
  void remove();

 private:
  struct File {
    std::string path;
    dev_t device;
    ino_t inode;
  };
  std::optional<File> file_;
};

}  // namespace loopspec::kit
