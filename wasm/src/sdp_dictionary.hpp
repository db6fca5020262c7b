// Internal: the SDP codec's preset dictionaries (text form; the codec tokenises it once).
#pragma once
#include <string_view>

namespace pushpeer::sdp::detail {
// Dictionary version 1, lines separated by "\n" (the codec turns them into the "\r\n" SDP uses).
std::string_view dictionary_v1_text();
}
