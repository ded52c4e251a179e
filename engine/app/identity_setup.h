#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "engine/app/config.h"
#include "engine/identity/identity.h"

namespace seckill::app {

// The shopper identity [identity] describes, its key files read. Start-up and --check both
// build it here, so --check refuses exactly what start-up would. InvalidArgument
// "<config>:<line>: identity.secret_file: cannot read /etc/...: No such file or directory".
absl::StatusOr<std::unique_ptr<identity::ShopperIdentity>> makeShopperIdentity(
    const EngineConfig& config);

// The line the engine logs at start about shopper identities ("not verified" for kind none).
std::string identitySummary(const IdentityConfig& config);

}  // namespace seckill::app
