// base64url without padding (RFC 4648 §5), strict: no padding, no whitespace, no non-canonical trailing bits.
#pragma once
#include <string>
#include <string_view>

#include "pushpeer/bytes.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::base64url {

std::string encode(ByteView in);
Status decode(std::string_view in, Bytes& out);

}  // namespace pushpeer::base64url
