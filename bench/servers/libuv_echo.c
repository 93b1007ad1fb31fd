/* libuv echo server, shaped like the echo server of libuv's own guide
 * (docs "Networking", uvbook tcp-echo-server): alloc_cb hands out a buffer
 * of the suggested size (64 KiB), read_cb writes what was read with
 * uv_write and frees it in the write callback, one uv_tcp_t per client.
 *
 * Usage: libuv_echo PORT [echo|sink]; prints "ready" once listening.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t* loop;
static int sink;

typedef struct {
  uv_write_t req;
  uv_buf_t buf;
} write_req_t;

static void alloc_buffer(uv_handle_t* handle, size_t suggested_size, uv_buf_t* buf) {
  (void)handle;
  buf->base = malloc(suggested_size);
  buf->len = suggested_size;
}

static void on_close(uv_handle_t* handle) { free(handle); }

static void echo_write(uv_write_t* req, int status) {
  (void)status;
  write_req_t* wr = (write_req_t*)req;
  free(wr->buf.base);
  free(wr);
}

static void echo_read(uv_stream_t* client, ssize_t nread, const uv_buf_t* buf) {
  if (nread > 0 && !sink) {
    write_req_t* req = malloc(sizeof *req);
    req->buf = uv_buf_init(buf->base, (unsigned)nread);
    uv_write(&req->req, client, &req->buf, 1, echo_write);
    return;
  }
  if (nread < 0) uv_close((uv_handle_t*)client, on_close);
  free(buf->base);
}

static void on_new_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  uv_tcp_t* client = malloc(sizeof *client);
  uv_tcp_init(loop, client);
  if (uv_accept(server, (uv_stream_t*)client) == 0) {
    uv_tcp_nodelay(client, 1);
    uv_read_start((uv_stream_t*)client, alloc_buffer, echo_read);
  } else {
    uv_close((uv_handle_t*)client, on_close);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT [echo|sink]\n", argv[0]);
    return 2;
  }
  sink = argc > 2 && strcmp(argv[2], "sink") == 0;
  loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
  uv_tcp_bind(&server, (const struct sockaddr*)&addr, 0);
  int r = uv_listen((uv_stream_t*)&server, 4096, on_new_connection);
  if (r) {
    fprintf(stderr, "listen: %s\n", uv_strerror(r));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
