#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace seckill::control {

// Who asks for a change: the audit log's author and peer.
struct Actor {
  std::string name;           // the admin token's name; "file:<path>"; "engine"
  std::string peer;           // the caller's address, "" for local sources
  std::string source = "api";  // "api" | "file" | "seed" | "start"
};

// Where the control plane reports what it decided on its own (a file applied over API edits,
// a stored mode kept over the file's): the app logs it. `warning` for what an operator should
// read.
using Notify = std::function<void(bool warning, std::string message)>;

// The payload key of an Aborted status that carries the current rule-set version (decimal).
inline constexpr std::string_view kCurrentVersionPayload = "seckill.current_version";

// Aborted: `expected` is not the current version, which the message names and the payload
// (kCurrentVersionPayload) carries.
absl::Status staleVersion(uint64_t expected, uint64_t current);
// The current version an Aborted status from staleVersion() carries.
std::optional<uint64_t> currentVersionOf(const absl::Status& status);

}  // namespace seckill::control
