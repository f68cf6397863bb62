#include "support.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <sstream>

#include "app/commands.hpp"
#include "store/migrations.hpp"

extern char** environ;

namespace triage::testing {

namespace {
std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) {
    ADD_FAILURE() << name << " is not set: run the integration tests through `make test`";
    throw std::runtime_error(std::string(name) + " unset");
  }
  return value;
}
}  // namespace

std::string PgDsn() { return RequireEnv("TRIAGE_TEST_PG_DSN"); }
std::string KafkaBrokers() { return RequireEnv("TRIAGE_TEST_KAFKA_BROKERS"); }
std::string LlamaUrl() { return RequireEnv("TRIAGE_TEST_LLAMA_URL"); }

std::string UniqueName(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  return prefix + std::to_string(rng() % 1'000'000'000'000ULL);
}

FreshSchema::FreshSchema() : name_(UniqueName("t_")) {
  const auto base = PgDsn();
  pqxx::connection conn(base);
  {
    pqxx::work tx(conn);
    tx.exec("CREATE SCHEMA " + name_);
    tx.commit();
  }
  dsn_ = base + " options=-csearch_path=" + name_;
  pqxx::connection scoped(dsn_);
  store::Migrate(scoped);
}

FreshSchema::~FreshSchema() {
  try {
    pqxx::connection conn(PgDsn());
    pqxx::work tx(conn);
    tx.exec("DROP SCHEMA " + name_ + " CASCADE");
    tx.commit();
  } catch (...) {
  }
}

app::Config TestConfig(const FreshSchema& schema) {
  auto c = app::LoadConfig("");
  c.postgres.dsn = schema.dsn();
  c.postgres.pool_size = 4;
  c.kafka.brokers = KafkaBrokers();
  c.topic_prefix = UniqueName("test");
  c.jobs_partitions = 4;
  c.reasoning_partitions = 4;
  c.router_group = c.topic_prefix + "-router";
  c.worker_group = c.topic_prefix + "-worker";
  c.session_timeout_ms = 6000;
  c.api.port = 0;
  c.admin.port = 0;
  c.SetSimTimeScale(0.01);  // inline answers in 5–20 ms, reasoning in 0.15–1.2 s
  c.notify_poll_ms = 20;
  c.webhook_retry.first_delay = std::chrono::milliseconds(50);
  c.reaper_interval_seconds = 1;
  c.reaper_grace_seconds = 3;
  c.lease_margin_seconds = 2;
  c.models.at("sim-standard").timeout_seconds = 2;
  c.models.at("sim-reasoning").timeout_seconds = 10;
  return c;
}

IoThreads::IoThreads(boost::asio::io_context& io) : io_(io) {
  // One thread unless TRIAGE_TEST_IO_THREADS asks for more: `make test-sanitize` runs the
  // concurrency tests on four under ThreadSanitizer (docs/reliability.md).
  int count = 1;
  if (const char* env = std::getenv("TRIAGE_TEST_IO_THREADS"))
    count = std::clamp(std::atoi(env), 1, 16);
  auto guard =
      std::make_shared<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
          io_.get_executor());
  for (int i = 0; i < count; ++i) threads_.emplace_back([this, guard] { io_.run(); });
}

IoThreads::~IoThreads() {
  io_.stop();
  for (auto& t : threads_) t.join();
}

WebhookReceiver::WebhookReceiver(boost::asio::io_context& io)
    : server_(io, {"127.0.0.1", 0, 1 << 20, std::chrono::seconds(30)},
              [this](http::Request req) -> boost::asio::awaitable<http::Response> {
                const auto event = nlohmann::json::parse(req.body(), nullptr, false);
                std::string id;
                if (event.is_object() && event.contains("data") && event["data"].is_object())
                  id = event["data"].value("id", "");
                {
                  std::lock_guard lock(mutex_);
                  ++by_job_[id];
                  received_.push_back(req);
                }
                co_return http::JsonResponse(req, http::Status::ok, "{}");
              }) {
  server_.Start();
}

std::string WebhookReceiver::url() const {
  return "http://127.0.0.1:" + std::to_string(server_.Port()) + "/hook";
}

std::size_t WebhookReceiver::DistinctJobs() {
  std::lock_guard lock(mutex_);
  return by_job_.size();
}

int WebhookReceiver::Deliveries() {
  std::lock_guard lock(mutex_);
  return static_cast<int>(received_.size());
}

std::vector<http::Request> WebhookReceiver::Received() {
  std::lock_guard lock(mutex_);
  return received_;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

http::ClientResponse Call(boost::asio::io_context& io, http::ClientRequest request) {
  return boost::asio::co_spawn(io, http::Send(std::move(request)), boost::asio::use_future).get();
}

InProcessPipeline::InProcessPipeline() : config(TestConfig(schema)) {}

InProcessPipeline::~InProcessPipeline() { Stop(); }

void InProcessPipeline::Start(app::Roles roles) {
  app::EnsurePipelineTopics(config);
  db = std::make_unique<store::Db>(config.postgres);
  producer = std::make_unique<queue::Producer>(config.kafka);
  pipeline = std::make_unique<app::Pipeline>(io, config, *db, *producer, classifier);
  pipeline->Start(roles);
  receiver = std::make_unique<WebhookReceiver>(io);
  threads = std::make_unique<IoThreads>(io);
}

void InProcessPipeline::Stop() {
  if (pipeline) pipeline->Stop();
  threads.reset();
}

std::string InProcessPipeline::ApiUrl(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(pipeline->ApiPort()) + path;
}

http::ClientResponse InProcessPipeline::Send(
    const std::string& method, const std::string& path, const std::string& body,
    std::vector<std::pair<std::string, std::string>> headers) {
  http::ClientRequest r;
  r.method = method;
  r.url = ApiUrl(path);
  r.body = body;
  if (headers.empty() && !body.empty()) headers = {{"content-type", "application/json"}};
  r.headers = std::move(headers);
  return Call(io, r);
}

nlohmann::json InProcessPipeline::Job(const std::string& id) {
  return nlohmann::json::parse(Send("GET", "/v1/jobs/" + id).body);
}

void CountableRuns(InProcessPipeline& triage) {
  triage.classifier = [](std::string_view task) {
    classify::Classification c;
    c.tier = task.starts_with("hard:") ? core::Tier::kRequiresReasoning : core::Tier::kTrivial;
    return c;
  };
  for (const auto* model : {"sim-standard", "sim-reasoning"}) {
    auto& p = triage.config.models.at(model).profile;
    p.accuracy = {1, 1, 1};
    p.slip_when_right = 0;
  }
  triage.config.reaper_grace_seconds = 60;
}

app::Config WithReasoningModel(app::Config config, int n) {
  const auto name = "sim-reasoning-" + std::to_string(n);
  config.models[name] = config.models.at("sim-reasoning");
  config.models[name].name = name;
  config.reasoning_model = name;
  return config;
}

namespace {

std::string Quote(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + '"';
}

// Always with a point or an exponent, so TOML reads a float.
std::string Float(double value) {
  std::ostringstream out;
  out << std::setprecision(17) << value;
  auto text = out.str();
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

double Usd(core::Micros micros_per_million) {
  return static_cast<double>(micros_per_million) / 1e6;
}

}  // namespace

std::string ServeConfigToml(const app::Config& c) {
  std::ostringstream t;
  t << "[admin]\nlisten = " << Quote(c.admin.address + ":" + std::to_string(c.admin.port))
    << "\n[shutdown]\ndrain_seconds = " << c.drain_seconds << "\n";
  t << "[api]\nlisten = " << Quote(c.api.address + ":" + std::to_string(c.api.port)) << "\n";
  t << "[postgres]\ndsn = " << Quote(c.postgres.dsn) << "\npool_size = " << c.postgres.pool_size
    << "\n[kafka]\nbrokers = " << Quote(c.kafka.brokers)
    << "\ntopic_prefix = " << Quote(c.topic_prefix) << "\njobs_partitions = " << c.jobs_partitions
    << "\nreasoning_partitions = " << c.reasoning_partitions
    << "\nsession_timeout_ms = " << c.session_timeout_ms << "\n[kafka.properties]\n";
  for (const auto& [k, v] : c.kafka.properties) t << Quote(k) << " = " << Quote(v) << "\n";
  t << "[router]\ngroup = " << Quote(c.router_group)
    << "\nmax_in_flight = " << c.router_max_in_flight << "\nmodel = " << Quote(c.standard_model)
    << "\n[worker]\ngroup = " << Quote(c.worker_group)
    << "\nmax_in_flight = " << c.worker_max_in_flight << "\nmodel = " << Quote(c.reasoning_model)
    << "\n[sim]\nseed = " << c.sim_seed << "\ntime_scale = " << Float(c.sim_time_scale)
    << "\n[reaper]\nlease_margin_seconds = " << c.lease_margin_seconds
    << "\ninterval_seconds = " << c.reaper_interval_seconds
    << "\ngrace_seconds = " << c.reaper_grace_seconds
    << "\n[notify]\npoll_ms = " << c.notify_poll_ms
    << "\nfirst_retry_ms = " << c.webhook_retry.first_delay.count() << "\n";
  for (const auto& [name, m] : c.models) {
    if (m.provider != "sim") continue;
    const auto& p = m.profile;
    t << "[models." << Quote(name)
      << "]\nprovider = \"sim\"\ntimeout_seconds = " << m.timeout_seconds
      << "\nprice_input = " << Float(Usd(m.pricing.input))
      << "\nprice_output = " << Float(Usd(m.pricing.output))
      << "\nprice_cached_input = " << Float(Usd(m.pricing.cached_input)) << "\n";
    static const char* kDifficulties[] = {"easy", "medium", "hard"};
    for (int d = 0; d < 3; ++d)
      t << "sim." << kDifficulties[d] << "_accuracy = " << Float(p.accuracy[d]) << "\nsim."
        << kDifficulties[d] << "_tokens = " << p.tokens[d] << "\n";
    const std::pair<const char*, double> shares[] = {
        {"reasoning_share", p.reasoning_share},
        {"latency_min_seconds", p.latency_min_s},
        {"latency_max_seconds", p.latency_max_s},
        {"same_job_correlation", p.same_job_correlation},
        {"cross_model_correlation", p.cross_model_correlation},
        {"error_correlation", p.error_correlation},
        {"slip_share", p.slip_share},
        {"slip_when_right", p.slip_when_right},
        {"confidence_right", p.confidence_right},
        {"confidence_wrong", p.confidence_wrong},
        {"confidence_spread", p.confidence_spread}};
    for (const auto& [key, value] : shares) t << "sim." << key << " = " << Float(value) << "\n";
  }
  return t.str();
}

ServeProcess::ServeProcess(const app::Config& config, const std::string& roles,
                           const std::string& more_toml, const std::vector<std::string>& more_env) {
  std::string pattern = (std::filesystem::temp_directory_path() / "triage-serve-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot make a temporary directory");
  dir_ = pattern;
  const auto config_path = dir_ + "/triage.toml", log_path = dir_ + "/serve.log";
  std::ofstream(config_path) << ServeConfigToml(config) << more_toml;
  // The child's config is the file alone: no TRIAGE_* variable of the test's environment but
  // the log level, and what the test adds.
  std::vector<std::string> env = more_env;
  for (char** e = environ; *e; ++e) {
    const std::string_view var(*e);
    if (var.rfind("TRIAGE_", 0) != 0 || var.rfind("TRIAGE_LOG_LEVEL=", 0) == 0)
      env.emplace_back(var);
  }
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {TRIAGE_BINARY, "--config", config_path,
                                   "serve",       "--roles",  roles};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("cannot fork");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
}

ServeProcess::~ServeProcess() {
  Kill(SIGTERM);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void ServeProcess::Kill(int signal) {
  if (pid_ <= 0) return;
  Signal(signal);
  if (!Wait(std::chrono::seconds(10))) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

void ServeProcess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

std::optional<int> ServeProcess::Wait(std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status_;
}

bool ServeProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
  status_ = status;  // reaped: its status is kept for Wait()
  pid_ = -1;
  return false;
}

unsigned short ServeProcess::Port(const std::string& listener, std::chrono::seconds limit) const {
  const std::string mark = listener + " listening on ";
  unsigned short port = 0;
  WaitFor(
      [&] {
        const auto log = Log();
        const auto at = log.find(mark);
        if (at == std::string::npos) return false;
        const auto line = log.substr(at, log.find('\n', at) - at);
        port = static_cast<unsigned short>(std::stoi(line.substr(line.rfind(':') + 1)));
        return true;
      },
      limit);
  return port;
}

std::string ServeProcess::Log() const {
  std::ifstream in(dir_ + "/serve.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::int64_t UncommittedMessages(const app::Config& config, const std::string& group,
                                 const std::string& topic, int partitions) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  conf->set("bootstrap.servers", config.kafka.brokers, err);
  conf->set("group.id", group, err);  // only to read its offsets: it never subscribes
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) throw std::runtime_error("kafka consumer: " + err);
  std::vector<RdKafka::TopicPartition*> tps;
  for (int p = 0; p < partitions; ++p) tps.push_back(RdKafka::TopicPartition::create(topic, p));
  const auto code = consumer->committed(tps, 10000);
  std::int64_t behind = 0;
  for (auto* tp : tps) {
    std::int64_t low = 0, high = 0;
    if (consumer->query_watermark_offsets(topic, tp->partition(), &low, &high, 10000) !=
        RdKafka::ERR_NO_ERROR)
      throw std::runtime_error("kafka watermarks of " + topic);
    behind += high - (tp->offset() >= 0 ? tp->offset() : low);
  }
  RdKafka::TopicPartition::destroy(tps);
  consumer->close();
  if (code != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error("kafka committed offsets of " + group + ": " + RdKafka::err2str(code));
  return behind;
}

}  // namespace triage::testing
