// The live dashboard (GET / on the api listener): one page, src/app/dashboard.html, embedded in
// the binary at build time (embed_dashboard.cmake). It polls /metrics and draws its charts
// itself; it fetches nothing else (docs/metrics.md, "Dashboard").
#pragma once
#include <string_view>

#include "http/http.hpp"

namespace triage::app {

std::string_view DashboardHtml();

// The page as an HTTP answer: HTML, never cached (a new binary may serve a new page), and a
// Content-Security-Policy that lets it reach only its own origin.
http::Response DashboardResponse(const http::Request& req);

}  // namespace triage::app
