// The SDP codec's decoder on untrusted bytes (docs/PROTOCOL.md §2): sdp::unpack. Whatever it accepts must be text
// within the limit that the encoder packs and unpacks back to the same text (the codec is lossless both ways).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "pushpeer/sdp_codec.hpp"

using namespace pushpeer;
using pushpeer::fuzz::one_of;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text;
  const Status s = sdp::unpack({data, size}, text);
  PP_FUZZ_CHECK(one_of(s, {Status::ok, Status::bad_packed_sdp, Status::unsupported_version}));
  if (s != Status::ok) {
    PP_FUZZ_CHECK(text.empty());
    return 0;
  }
  PP_FUZZ_CHECK(!text.empty() && text.size() <= sdp::kMaxSdpLength);
  Bytes again;
  PP_FUZZ_CHECK(sdp::pack(text, again) == Status::ok);
  std::string back;
  PP_FUZZ_CHECK(sdp::unpack(again, back) == Status::ok);
  PP_FUZZ_CHECK(back == text);
  return 0;
}
