/* Raw epoll echo server: the ceiling, no abstraction.
 *
 * Usage: epoll_echo PORT [echo|sink]
 * Listens on 127.0.0.1:PORT. "echo" writes back every byte it reads; "sink"
 * discards them (the one-way streaming test). Level-triggered epoll, one
 * 256 KiB buffer, a connection's unsent tail kept in a per-connection buffer
 * and flushed on EPOLLOUT (reading stops meanwhile, which is the back-pressure
 * every other server also applies). Prints "ready" on stdout once listening.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kBufferSize = 256 * 1024 };

struct pending { /* bytes read but not yet written back */
  char* data;
  size_t size, sent;
};

static struct pending* pendings; /* indexed by fd */
static int max_fds;

static void die(const char* what) {
  perror(what);
  exit(1);
}

static void close_connection(int epfd, int fd) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
  free(pendings[fd].data);
  pendings[fd] = (struct pending){0};
  close(fd);
}

/* Writes what can be written; keeps the rest and watches EPOLLOUT instead of EPOLLIN. */
static void send_or_keep(int epfd, int fd, const char* data, size_t size) {
  ssize_t n = write(fd, data, size);
  if (n < 0) {
    if (errno != EAGAIN) return close_connection(epfd, fd);
    n = 0;
  }
  if ((size_t)n == size) return;
  struct pending* p = &pendings[fd];
  p->data = malloc(size - n);
  memcpy(p->data, data + n, size - n);
  p->size = size - n;
  p->sent = 0;
  struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
  epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

static void flush_pending(int epfd, int fd) {
  struct pending* p = &pendings[fd];
  ssize_t n = write(fd, p->data + p->sent, p->size - p->sent);
  if (n < 0) {
    if (errno != EAGAIN) close_connection(epfd, fd);
    return;
  }
  p->sent += n;
  if (p->sent < p->size) return;
  free(p->data);
  *p = (struct pending){0};
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT [echo|sink]\n", argv[0]);
    return 2;
  }
  int sink = argc > 2 && strcmp(argv[2], "sink") == 0;
  max_fds = 65536;
  pendings = calloc(max_fds, sizeof *pendings);

  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(listener, (struct sockaddr*)&addr, sizeof addr) < 0) die("bind");
  if (listen(listener, 4096) < 0) die("listen");

  int epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
  epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
  printf("ready\n");
  fflush(stdout);

  static char buffer[kBufferSize];
  struct epoll_event events[512];
  for (;;) {
    int n = epoll_wait(epfd, events, 512, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        for (;;) {
          int c = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          if (c >= max_fds) {
            close(c);
            continue;
          }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(epfd, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        flush_pending(epfd, fd);
        continue;
      }
      ssize_t got = read(fd, buffer, sizeof buffer);
      if (got == 0 || (got < 0 && errno != EAGAIN)) {
        close_connection(epfd, fd);
        continue;
      }
      if (got > 0 && !sink) send_or_keep(epfd, fd, buffer, (size_t)got);
    }
  }
}
