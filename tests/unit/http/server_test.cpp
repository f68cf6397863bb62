// The server against a plain blocking client on loopback.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <thread>

#include "http/http.hpp"

namespace triage::http {
namespace {
using tcp = boost::asio::ip::tcp;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server = std::make_unique<Server>(
        io, ServerOptions{"127.0.0.1", 0, 1 << 20, std::chrono::seconds(30)},
        [](Request req) -> boost::asio::awaitable<Response> {
          co_return JsonResponse(req, Status::ok, R"({"ok":true})");
        });
    server->Start();
    thread = std::thread([this] { io.run(); });
  }
  void TearDown() override {
    server->Stop();
    io.stop();
    thread.join();
  }

  // Writes `request` whole, then reads until the server closes: what a client that sends its
  // body before reading (curl, Python's urllib and requests) sees.
  std::string WriteAllThenRead(const std::string& request) {
    boost::asio::io_context client_io;
    tcp::socket socket(client_io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), server->Port()});
    boost::system::error_code ec;
    boost::asio::write(socket, boost::asio::buffer(request), ec);
    EXPECT_FALSE(ec) << "writing the request failed: " << ec.message();
    std::string response;
    boost::asio::read(socket, boost::asio::dynamic_buffer(response), ec);
    EXPECT_EQ(ec, boost::asio::error::eof) << ec.message();
    return response;
  }

  boost::asio::io_context io;
  std::unique_ptr<Server> server;
  std::thread thread;
};

TEST_F(ServerTest, AnOversizedBodyGets413EvenWhenTheClientWritesItAllFirst) {
  // Larger than the loopback socket buffers, so the client is still writing when the server
  // has answered.
  const std::string body(24 * 1024 * 1024, 'x');
  const auto response = WriteAllThenRead(
      "POST /v1/jobs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 413")) << response.substr(0, 200);
  EXPECT_NE(response.find("Connection: close"), std::string::npos) << response.substr(0, 400);
  EXPECT_NE(response.find(R"("code":"body_too_large")"), std::string::npos) << response;
}

TEST_F(ServerTest, AnOversizedChunkedBodyGets413Too) {
  std::string request = "POST /v1/jobs HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(256 * 1024, 'y');
  for (int i = 0; i < 96; ++i) request += "40000\r\n" + chunk + "\r\n";
  request += "0\r\n\r\n";
  const auto response = WriteAllThenRead(request);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 413")) << response.substr(0, 200);
}

TEST_F(ServerTest, AMalformedRequestGets400AndTheConnectionCloses) {
  const auto response = WriteAllThenRead("NOT HTTP AT ALL\r\n\r\n" + std::string(100000, 'z'));
  EXPECT_TRUE(response.starts_with("HTTP/1.1 400")) << response.substr(0, 200);
  EXPECT_NE(response.find(R"("code":"bad_request")"), std::string::npos) << response;
}

TEST_F(ServerTest, ExpectContinueGetsTheGoAheadOrAnEarly413) {
  boost::asio::io_context client_io;
  tcp::socket socket(client_io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), server->Port()});
  boost::asio::write(
      socket,
      boost::asio::buffer(std::string(
          "POST /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")));
  std::string head;
  boost::asio::read_until(socket, boost::asio::dynamic_buffer(head), "\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 100 Continue")) << head;
  const auto big = WriteAllThenRead(
      "POST /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n");
  EXPECT_TRUE(big.starts_with("HTTP/1.1 413")) << big.substr(0, 200);
}

TEST_F(ServerTest, ARequestWithinTheLimitIsAnswered) {
  const std::string body(1000, ' ');
  const auto response = WriteAllThenRead(
      "POST /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n" + body);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << response.substr(0, 200);
}

// What the client reads from `socket` until the server closes it, or until `limit` passes.
std::string ReadUntilClosed(boost::asio::io_context& client_io, tcp::socket& socket,
                            std::chrono::seconds limit) {
  std::string response;
  boost::asio::async_read(socket, boost::asio::dynamic_buffer(response),
                          [](boost::system::error_code, std::size_t) {});
  client_io.restart();
  client_io.run_for(limit);
  return response;
}

// A keep-alive connection still open when its server is stopped and destroyed holds what its
// session uses (the handler, the options): its next request is answered, and, the server being
// stopped, that answer closes the connection.
TEST(ServerLifetime, AnOpenConnectionOutlivesItsServerAndClosesAfterItsNextAnswer) {
  boost::asio::io_context io;
  auto server =
      std::make_unique<Server>(io, ServerOptions{"127.0.0.1", 0, 1 << 20, std::chrono::seconds(30)},
                               [](Request req) -> boost::asio::awaitable<Response> {
                                 co_return JsonResponse(req, Status::ok, R"({"ok":true})");
                               });
  server->Start();
  boost::asio::io_context client_io;
  tcp::socket socket(client_io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), server->Port()});
  const std::string request = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
  auto thread = std::thread([&io] { io.run(); });
  boost::asio::write(socket, boost::asio::buffer(request));
  std::string first;
  boost::asio::read_until(socket, boost::asio::dynamic_buffer(first), R"({"ok":true})");
  ASSERT_TRUE(first.starts_with("HTTP/1.1 200")) << first;
  EXPECT_EQ(first.find("Connection: close"), std::string::npos) << first;

  // The session now waits for the next request. Stop and destroy the server, and let its
  // acceptor close and its accept loop end before that request arrives.
  io.stop();
  thread.join();
  server.reset();
  io.restart();
  io.poll();
  thread = std::thread([&io] { io.run(); });
  boost::asio::write(socket, boost::asio::buffer(request));
  const auto second = ReadUntilClosed(client_io, socket, std::chrono::seconds(20));
  io.stop();
  thread.join();
  EXPECT_TRUE(second.starts_with("HTTP/1.1 200")) << second;
  EXPECT_NE(second.find("Connection: close"), std::string::npos) << second;
}

}  // namespace
// A graceful stop: the request under way when the server stops is answered, and told to close
// the connection, so the client takes its next request elsewhere.
TEST(ServerStop, ARequestUnderWayIsAnsweredWithConnectionClose) {
  boost::asio::io_context io;
  boost::asio::steady_timer gate(io, boost::asio::steady_timer::time_point::max());
  std::promise<void> entered;
  Server server(io, ServerOptions{"127.0.0.1", 0, 1 << 20, std::chrono::seconds(30)},
                [&](Request req) -> boost::asio::awaitable<Response> {
                  entered.set_value();
                  auto [ec] =
                      co_await gate.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
                  co_return JsonResponse(req, Status::ok, R"({"ok":true})");
                });
  server.Start();
  std::thread thread([&] { io.run(); });
  boost::asio::io_context client_io;
  tcp::socket socket(client_io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), server.Port()});
  const std::string request = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";  // keep-alive
  boost::asio::write(socket, boost::asio::buffer(request));
  entered.get_future().wait();
  EXPECT_EQ(server.InFlight(), 1u);
  server.Stop();
  boost::asio::post(io, [&] { gate.cancel(); });
  std::string response;
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::dynamic_buffer(response), ec);  // until it closes
  EXPECT_EQ(ec, boost::asio::error::eof) << ec.message();
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;
  EXPECT_EQ(server.InFlight(), 0u);
  io.stop();
  thread.join();
}

}  // namespace triage::http
