// SPDX-License-Identifier: Apache-2.0

// What the HTTP library (civetweb) was built with, for checks made before any
// server starts (src/config.cc's listen address check). No other civetweb here.
#pragma once

namespace hbfence {

// Whether the HTTP library can listen on IPv6 at all: Debian 12's civetweb 1.15 is
// built without it (USE_IPV6 unset), so "[addr]:port" cannot be served with it.
bool HttpServerHasIpv6();

}  // namespace hbfence
