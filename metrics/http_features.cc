// SPDX-License-Identifier: Apache-2.0

#include "metrics/http_features.h"

#include <civetweb.h>

namespace hbfence {

bool HttpServerHasIpv6() { return mg_check_feature(MG_FEATURES_IPV6) != 0; }

}  // namespace hbfence
