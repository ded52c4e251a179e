#pragma once

#include <string>

namespace seckill {

// A fresh one-time submission token: 128 random bits as 32 lowercase hex
// chars, from a per-thread generator. The Redis store mints its tokens here; the memory
// store signs its own (engine/store/memory/token_log.h), in the same shape.
std::string newSubmissionToken();

}  // namespace seckill
