// Boost.Asio echo server, shaped like Asio's own example
// (boost/libs/asio/example/cpp11/echo/async_tcp_echo_server.cpp): a session
// object kept alive by shared_from_this, async_read_some into a member
// buffer, then async_write of what was read, then read again. The example's
// buffer is 1 KiB; this one is 64 KiB (libuv's suggested read size), so a
// 100 KiB message is not cut into a hundred reads.
//
// Usage: asio_echo PORT [echo|sink]; prints "ready" once listening.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <cstdio>
#include <cstring>
#include <memory>

using boost::asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, bool sink) : socket_(std::move(socket)), sink_(sink) {}
  void start() { do_read(); }

 private:
  void do_read() {
    auto self(shared_from_this());
    socket_.async_read_some(boost::asio::buffer(data_, kMaxLength),
                            [this, self](boost::system::error_code ec, std::size_t length) {
                              if (ec) return;
                              if (sink_)
                                do_read();
                              else
                                do_write(length);
                            });
  }
  void do_write(std::size_t length) {
    auto self(shared_from_this());
    boost::asio::async_write(socket_, boost::asio::buffer(data_, length),
                             [this, self](boost::system::error_code ec, std::size_t) {
                               if (!ec) do_read();
                             });
  }

  static constexpr std::size_t kMaxLength = 64 * 1024;
  tcp::socket socket_;
  bool sink_;
  char data_[kMaxLength];
};

class Server {
 public:
  Server(boost::asio::io_context& io, unsigned short port, bool sink)
      : acceptor_(io), sink_(sink) {
    tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(4096);
    do_accept();
  }

 private:
  void do_accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (!ec) {
        socket.set_option(tcp::no_delay(true));
        std::make_shared<Session>(std::move(socket), sink_)->start();
      }
      do_accept();
    });
  }

  tcp::acceptor acceptor_;
  bool sink_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [echo|sink]\n", argv[0]);
    return 2;
  }
  // One thread: the concurrency hint lets Asio drop its locking, as a
  // single-threaded loop would.
  boost::asio::io_context io(1);
  Server server(io, static_cast<unsigned short>(std::atoi(argv[1])), argc > 2 && std::strcmp(argv[2], "sink") == 0);
  std::printf("ready\n");
  std::fflush(stdout);
  io.run();
}
