// TLS is verified: an https provider whose certificate no trusted CA signed is refused during
// the handshake, before any request (and API key) is sent.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "providers/http_model.hpp"

namespace triage::providers {
namespace {
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// A server context with a fresh self-signed certificate for 127.0.0.1.
void UseSelfSignedCertificate(net::ssl::context& ctx) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX_use_certificate(ctx.native_handle(), cert);
  SSL_CTX_use_PrivateKey(ctx.native_handle(), key);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TEST(Tls, AnUntrustedCertificateIsRefusedBeforeAnythingIsSent) {
  net::io_context server_io;
  net::ssl::context server_ctx(net::ssl::context::tls_server);
  UseSelfSignedCertificate(server_ctx);
  tcp::acceptor acceptor(server_io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  std::atomic<bool> handshake_ok{false};
  std::atomic<bool> accepted{false};
  std::thread server([&] {
    boost::system::error_code ec;
    tcp::socket socket(server_io);
    acceptor.accept(socket, ec);
    if (ec) return;
    accepted = true;
    net::ssl::stream<tcp::socket> stream(std::move(socket), server_ctx);
    stream.handshake(net::ssl::stream_base::server, ec);
    handshake_ok = !ec;
  });

  HttpModelOptions options;
  options.name = "tls-model";
  options.model = "gpt-4o-mini";
  options.base_url =
      "https://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/v1";
  options.api_key = "sk-never-sent";
  HttpModel model(Flavor::kOpenAi, options, std::make_shared<http::ClientPool>());
  ModelRequest request;
  request.prompt = "hi";
  net::io_context io;
  auto f = net::co_spawn(io, model.Complete(request, std::chrono::steady_clock::now() + 5s),
                         net::use_future);
  io.run();
  server.join();
  try {
    f.get();
    FAIL() << "an untrusted certificate was accepted";
  } catch (const ModelError& e) {
    EXPECT_EQ(e.Kind(), ErrorKind::kTransport) << e.what();
    EXPECT_NE(std::string(e.what()).find("tls handshake"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("sk-never-sent"), std::string::npos);
  }
  EXPECT_TRUE(accepted);
  EXPECT_FALSE(handshake_ok);
}

}  // namespace
}  // namespace triage::providers
