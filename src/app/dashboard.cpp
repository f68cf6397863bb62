#include "app/dashboard.hpp"

#include <boost/beast/http/field.hpp>

namespace triage::app {

http::Response DashboardResponse(const http::Request& req) {
  http::Response res{http::Status::ok, req.version()};
  using boost::beast::http::field;
  res.set(field::content_type, "text/html; charset=utf-8");
  res.set(field::cache_control, "no-store");
  res.set("Content-Security-Policy",
          "default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; "
          "style-src 'unsafe-inline'; img-src 'self'");
  res.body() = std::string(DashboardHtml());
  res.prepare_payload();
  return res;
}

}  // namespace triage::app
