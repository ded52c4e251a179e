#pragma once

#include <string_view>

namespace seckill::app {

// Tells systemd how the service is doing (a unit with Type=notify): "READY=1" once it serves,
// "RELOADING=1" then "READY=1" around a reload, "STOPPING=1" when it begins to stop; the
// protocol of sd_notify(3), without linking libsystemd. Does nothing and returns false when
// $NOTIFY_SOCKET is unset (not started by systemd) or the datagram cannot be sent.
bool notifySystemd(std::string_view state);

}  // namespace seckill::app
