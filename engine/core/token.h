#pragma once

#include <string>

namespace seckill {

// A fresh one-time submission token: 128 random bits as 32 lowercase hex
// chars, from a per-thread generator. Every SaleStore mints its tokens here.
std::string newSubmissionToken();

}  // namespace seckill
