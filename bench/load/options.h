#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/load/credentials.h"
#include "bench/load/traffic_shape.h"

namespace seckill::load {

// Exit codes of seckill-load.
inline constexpr int kExitOk = 0;
inline constexpr int kExitStartFailed = 1;  // the target could not be reached at start
inline constexpr int kExitBadArguments = 2;
inline constexpr int kExitViolation = 3;  // an end-of-run check failed

// Where the requests go: plain HTTP to one host and port.
struct TargetUrl {
  std::string host;
  uint16_t port = 80;

  // "http://host:port".
  std::string text() const;
  // The Host header: "host:port".
  std::string hostHeader() const;
};

// Parses "http://HOST[:PORT][/]". https, a path, a query or user info is
// InvalidArgument with the reason.
absl::StatusOr<TargetUrl> parseTargetUrl(std::string_view url);

enum class UserMode : uint8_t {
  kFresh,  // every attempt by a new user id
  kPool,   // attempts by users drawn at random from a pool of N
};

struct UserSpec {
  UserMode mode = UserMode::kFresh;
  int64_t pool_size = 0;  // kPool
};

// Parses "fresh" or "pool:N" (N >= 1).
absl::StatusOr<UserSpec> parseUserSpec(std::string_view text);

// A validated run description.
struct LoadOptions {
  TargetUrl url;
  std::string sale;
  int threads = 2;
  int connections = 16;  // in total, spread evenly over the threads
  UserSpec users;
  bool token = false;       // fetch a token before each order, send it as Idempotency-Key
  double pay_fraction = 0;  // of the 201 orders, paid; the rest abandoned
  ShapeSpec shape;
  double duration_s = 10;
  double drain_s = 5;            // after the duration, how long in-flight requests may finish
  double timeout_s = 5;          // per HTTP request
  std::string csv_path;          // empty: no CSV
  std::string user_prefix;       // empty: made up per run (unique across runs)
  std::optional<uint64_t> seed;  // pool draws; random when unset
  bool progress = true;
  int max_order_lookups = 10000;  // GET /orders/{id} budget of the end-of-run check
  IdentitySpec identity;           // how shoppers say who they are
  std::string identity_secret;     // the key file's bytes (kJwt, kHmac)

  // Connections of worker `index` (the total spread evenly; the first ones get the rest).
  int connectionsOf(int index) const;
};

// The command line as typed, before validation.
struct RawOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string sale;
  int threads = 2;
  int connections = 16;
  std::string users = "fresh";
  bool token = false;
  double pay_fraction = 0;
  std::string shape = "steady:100";
  std::string duration = "10s";
  bool duration_given = false;
  std::string drain = "5s";
  std::string timeout = "5s";
  std::string csv;
  std::string user_prefix;
  std::optional<uint64_t> seed;
  bool no_progress = false;
  int max_order_lookups = 10000;
  std::string identity = "none";
};

// Reads a whole file (the replay shape's rate file). Injected so validation
// stays testable without a file system.
using FileReader = std::function<absl::StatusOr<std::string>(const std::string& path)>;

// Validates raw options into LoadOptions; InvalidArgument with a message fit
// for the user on the first problem found. A replay shape's duration is the
// file's length unless --duration was given.
absl::StatusOr<LoadOptions> validateOptions(const RawOptions& raw, const FileReader& read_file);

// The outcome of parsing argv.
struct CommandLine {
  enum class Action : uint8_t { kRun, kHelp, kError };
  Action action = Action::kError;
  LoadOptions options;  // kRun
  std::string text;     // kHelp: the help; kError: the message, ending in '\n'
};

// Parses the arguments after the program name.
CommandLine parseCommandLine(const std::vector<std::string>& args, const FileReader& read_file);

// The --help text.
std::string helpText();

}  // namespace seckill::load
