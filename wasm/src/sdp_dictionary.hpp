// Internal: the SDP codec's preset dictionaries (text form; the codec tokenises it once).
#pragma once
#include <string>
#include <string_view>

namespace pushpeer::sdp::detail {
// Dictionary version 1, lines separated by "\n" (the codec turns them into the "\r\n" SDP uses).
std::string_view dictionary_v1_text();
// Dictionary version 2: version 1 followed by data-channel sessions with srflx and relay candidates (made from
// version 1's last Firefox and Chromium sessions as docs/PROTOCOL.md §2.3 says).
const std::string& dictionary_v2_text();
}
