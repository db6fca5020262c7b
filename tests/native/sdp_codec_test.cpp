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
#include "sdp_dictionary.hpp"
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

// Packs in token mode (mode 0) and unpacks to the same text.
void ExpectTokensRoundTrip(const std::string& sdp) {
  Bytes packed;
  ASSERT_EQ(sdp::pack(sdp, packed), Status::ok);
  std::string back;
  ASSERT_EQ(sdp::unpack(packed, back), Status::ok);
  EXPECT_EQ(back, sdp);
  sdp::Mode mode;
  ASSERT_EQ(sdp::packed_mode(packed, mode), Status::ok);
  EXPECT_EQ(mode, sdp::Mode::tokens);
}

// Size targets (docs/PROTOCOL.md §2.4): a data channel fits in 128 bytes, with host candidates only or with srflx
// and relay candidates too; audio/video in 900.
std::size_t target(const std::string& name) { return name.starts_with("datachannel") ? 128 : 900; }

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
    Bytes v1;
    ASSERT_EQ(sdp::pack_version(sdp, 1, v1), Status::ok) << p;
    std::printf("sdp %-46s %5zu bytes -> %4zu packed (version 1: %4zu, raw deflate %4zu)\n", p.c_str(), sdp.size(),
                packed.size(), v1.size(), raw_deflate_size(sdp));
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

// Version 1 (dictionary v1, no kIcePriority) is what pushpeer sent before version 2: it must keep decoding.
TEST(SdpCodec, EveryVersionStillDecodes) {
  for (const auto& [p, sdp] : corpus_sdps()) {
    for (const std::uint8_t version : {1, 2}) {
      Bytes packed;
      ASSERT_EQ(sdp::pack_version(sdp, version, packed), Status::ok) << p;
      EXPECT_EQ(packed[0], version << 4) << p << ": version " << int{version} << ", token mode";
      std::string back;
      ASSERT_EQ(sdp::unpack(packed, back), Status::ok) << p << " version " << int{version};
      EXPECT_EQ(back, sdp) << p << " version " << int{version};
    }
    Bytes newest, v2;
    ASSERT_EQ(sdp::pack(sdp, newest), Status::ok);
    ASSERT_EQ(sdp::pack_version(sdp, 2, v2), Status::ok);
    EXPECT_EQ(newest, v2) << p << ": pack() writes version 2";
  }
}

// Skeleton bytes deflated without a dictionary (a stream that never reaches back into one inflates the same under
// any dictionary), behind a version/mode byte.
Bytes packed_skeleton(std::uint8_t version, std::string_view skeleton, const Bytes& fields) {
  Bytes packed{static_cast<std::uint8_t>(version << 4)};
  const Bytes body = raw_deflate(skeleton);
  packed.insert(packed.end(), body.begin(), body.end());
  packed.insert(packed.end(), fields.begin(), fields.end());
  return packed;
}

TEST(SdpCodec, IcePriorityMarkerIsVersion2Only) {
  // 0x13, t = 127 (type preference 126), s = 1 (component 1, local preference given as 2 bytes): 0x7E1E.
  const std::string skeleton = "a=candidate:0 1 UDP \x13\x7f\x01 x\r\n";
  std::string out;
  ASSERT_EQ(sdp::unpack(packed_skeleton(2, skeleton, {0x7e, 0x1e}), out), Status::ok);
  EXPECT_EQ(out, "a=candidate:0 1 UDP 2122194687 x\r\n");
  EXPECT_EQ(sdp::unpack(packed_skeleton(1, skeleton, {0x7e, 0x1e}), out), Status::bad_packed_sdp);
  // Parameters that name no value are refused: s = 0, s beyond component 2, a recent value that is not there yet,
  // t = 0, a missing field byte, a marker cut short.
  for (const std::string& bad : {std::string("\x13\x7f\x00", 3), std::string("\x13\x7f\x17"),
                                 std::string("\x13\x7f\x02"), std::string("\x13\x00\x01", 3), std::string("\x13\x7f")}) {
    EXPECT_EQ(sdp::unpack(packed_skeleton(2, "a=candidate:0 1 UDP " + bad, {0x7e, 0x1e}), out), Status::bad_packed_sdp)
        << testing::PrintToString(bad);
  }
  EXPECT_EQ(sdp::unpack(packed_skeleton(2, skeleton, {0x7e}), out), Status::bad_packed_sdp);
}

// Priorities (type preference << 24 | local preference << 8 | 256 - component) as browsers give them: each way of
// naming the local preference (a literal, one of the last four, one of the last two plus or minus one, the high
// byte of one of the last two), component 2, and values that are no component-1/2 priority, which stay decimals
// (their size on real SDPs: the corpus tests).
TEST(SdpCodec, CandidatePrioritiesRoundTrip) {
  std::string sdp = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
  const std::uint32_t priorities[] = {
      126u << 24 | 0x7e1e << 8 | 255, 126u << 24 | 0x7f32 << 8 | 255, 90u << 24 | 0x7e1e << 8 | 255,
      90u << 24 | 0x7f32 << 8 | 255,  100u << 24 | 0x7e1f << 8 | 255, 5u << 24 | 0x7e1e << 8 | 255,
      3u << 24 | 0x7f31 << 8 | 254,   0u << 24 | 0x7e40 << 8 | 255,  254u << 24 | 0x7f99 << 8 | 254,
      2u << 24 | 0x0001 << 8 | 255,   2u << 24 | 0x1234 << 8 | 255,  2u << 24 | 0x0001 << 8 | 255,
      0u << 24 | 0x0000 << 8 | 255,   0xFFFFFFFFu,                   126u << 24 | 0x7e1e << 8 | 253,
      1u,                             2122194687u,                   2122194687u};
  int i = 0;
  for (const std::uint32_t p : priorities) {
    sdp += "a=candidate:" + std::to_string(i++) + " 1 UDP " + std::to_string(p) + " 192.0.2.1 9 typ host\r\n";
  }
  sdp += "a=candidate:x 1 UDP 0123 192.0.2.1 9 typ host\r\na=candidate:1 1 UDP 2122194687 x\r\n";
  ExpectTokensRoundTrip(sdp);
}

// On a real network the srflx candidate has the NAT's address and the relay candidate the TURN server's, where on
// the capture machine both are the host's. Rewriting the TURN data-channel captures that way costs the two new
// IPv4 addresses (8 bytes) and at most a byte more: the related addresses still repeat earlier ones.
TEST(SdpCodec, TurnCandidatesBehindANatPackAsTightly) {
  const std::regex candidate(
      "^(a=candidate:\\S+ \\d+ \\S+ \\d+ )(\\S+)( (\\d+) typ (srflx|relay) raddr )(\\S+)( rport )(\\d+)(.*)$");
  int rewritten = 0;
  for (const auto& [p, sdp] : corpus_sdps()) {
    if (!p.starts_with("datachannel-turn")) continue;
    std::string srflx_port, relay_port;
    std::smatch m;
    std::vector<std::string> lines;
    for (std::size_t at = 0; at < sdp.size();) {
      const std::size_t eol = sdp.find("\r\n", at);
      lines.push_back(sdp.substr(at, eol - at));
      at = eol + 2;
    }
    for (const std::string& line : lines) {
      if (std::regex_match(line, m, candidate)) (m[5] == "srflx" ? srflx_port : relay_port) = m[4];
    }
    ASSERT_FALSE(srflx_port.empty() || relay_port.empty()) << p;
    std::string nat;
    for (std::string line : lines) {
      if (std::regex_match(line, m, candidate)) {
        const bool srflx = m[5] == "srflx";
        std::string raddr = m[6];
        if (!srflx) raddr = m[8] == srflx_port ? "198.51.100.7" : m[8] == relay_port ? "203.0.113.9" : raddr;
        line = m[1].str() + (srflx ? "198.51.100.7" : "203.0.113.9") + m[3].str() + raddr + m[7].str() + m[8].str() +
               m[9].str();
      } else if (line.starts_with("c=IN IP4 ") && sdp.find("m=application " + relay_port + " ") != std::string::npos) {
        line = "c=IN IP4 203.0.113.9";  // the relayed candidate is the default one
      }
      nat += line + "\r\n";
    }
    ASSERT_NE(nat, sdp) << p;
    Bytes here, behind_nat;
    ASSERT_EQ(sdp::pack(sdp, here), Status::ok);
    ASSERT_EQ(sdp::pack(nat, behind_nat), Status::ok);
    std::string back;
    ASSERT_EQ(sdp::unpack(behind_nat, back), Status::ok);
    EXPECT_EQ(back, nat);
    EXPECT_LE(behind_nat.size(), here.size() + 9) << p << " behind a NAT:\n" << nat;
    std::printf("sdp %-46s %4zu packed, behind a NAT %4zu\n", p.c_str(), here.size(), behind_nat.size());
    ++rewritten;
  }
  EXPECT_EQ(rewritten, 8);
}

// Dictionary v2 is stored as text; docs/PROTOCOL.md §2.3 says how it is made from v1, so that another implementation
// can build it. This builds it that way and compares.
TEST(SdpCodec, DictionaryV2IsWhatProtocolMdDerives) {
  const std::string_view v1 = sdp::detail::dictionary_v1_text();
  std::vector<std::size_t> sessions;
  for (std::size_t at = v1.find("v=0\n"); at != std::string_view::npos; at = v1.find("\nv=0\n", at) + 1) {
    sessions.push_back(at);
    if (v1.find("\nv=0\n", at) == std::string_view::npos) break;
  }
  ASSERT_GE(sessions.size(), 3u);
  const std::string_view firefox = v1.substr(sessions[sessions.size() - 3], sessions[sessions.size() - 2] -
                                                                                sessions[sessions.size() - 3]);
  const std::string_view chromium = v1.substr(sessions.back());
  struct Browser {
    std::string_view session, srflx, relay;
    bool firefox;
  };
  const Browser browsers[] = {
      {firefox, "a=candidate:1 1 UDP 1685987327 198.51.100.7 40010 typ srflx raddr 192.0.2.1 rport 40006\n",
       "a=candidate:2 1 UDP 92151551 203.0.113.9 40011 typ relay raddr 203.0.113.9 rport 40011\n", true},
      {chromium,
       "a=candidate:1234567894 1 udp 1685987071 198.51.100.7 40010 typ srflx raddr 192.0.2.1 rport 40008 generation 0 "
       "network-id 1\n",
       "a=candidate:1234567895 1 udp 58597375 203.0.113.9 40011 typ relay raddr 198.51.100.7 rport 40010 generation 0 "
       "network-id 1\n",
       false}};
  // The four host lines of the session (0-3), then srflx and relay.
  const std::string_view order = "0123sr";
  std::string expected(v1);
  for (const bool one_host : {false, true}) {
    for (const Browser& b : browsers) {
      const std::size_t first = b.session.find("a=candidate:");
      const std::size_t last = b.session.find('\n', b.session.rfind("a=candidate:")) + 1;
      std::vector<std::string> lines;
      for (std::size_t at = first; at < last; at = b.session.find('\n', at) + 1) {
        lines.emplace_back(b.session.substr(at, b.session.find('\n', at) + 1 - at));
      }
      ASSERT_EQ(lines.size(), 4u);
      std::string head(b.session.substr(0, first));
      head = std::regex_replace(head, std::regex("m=application [0-9]+"), "m=application 40011");
      if (!one_host) {
        head = std::regex_replace(head, std::regex("c=IN IP4 192\\.0\\.2\\.1\n"), "c=IN IP4 203.0.113.9\n");
      }
      std::string candidates;
      for (const char c : order) {
        std::string line = c == 's' ? std::string(b.srflx) : c == 'r' ? std::string(b.relay) : lines[c - '0'];
        if (b.firefox && c >= '1' && c <= '3') line.replace(12, 1, std::string(1, static_cast<char>(c + 2)));
        if (one_host) {
          line = std::regex_replace(line, std::regex("198\\.51\\.100\\.7|203\\.0\\.113\\.9"), "192.0.2.1");
        }
        candidates += line;
      }
      expected += head + candidates + std::string(b.session.substr(last));
    }
  }
  EXPECT_EQ(sdp::detail::dictionary_v2_text(), expected);
}

// Browsers list candidates in the order their gathering finished. Every order of a run of candidate lines round-
// trips, and costs at most three bytes more than the canonical one (host, srflx, prflx, relay; UDP before TCP; IPv4
// before IPv6).
TEST(SdpCodec, CandidateLinesInAnyOrderRoundTrip) {
  const std::string sdp = corpus_sdp(corpus_sdps(), "datachannel-turn-chromium-firefox-offer.sdp").sdp;
  const std::size_t first = sdp.find("a=candidate:");
  const std::size_t last = sdp.find("\r\n", sdp.rfind("a=candidate:")) + 2;
  std::vector<std::string> lines;
  for (std::size_t at = first; at < last; at = sdp.find("\r\n", at) + 2) {
    lines.push_back(sdp.substr(at, sdp.find("\r\n", at) + 2 - at));
  }
  ASSERT_EQ(lines.size(), 6u);
  std::vector<std::size_t> order = {0, 1, 2, 3, 4, 5};  // this capture's order is the canonical one
  Bytes canonical;
  ASSERT_EQ(sdp::pack(sdp, canonical), Status::ok);
  std::size_t permutations = 0, largest = 0;
  do {
    std::string shuffled = sdp.substr(0, first);
    for (const std::size_t k : order) shuffled += lines[k];
    shuffled += sdp.substr(last);
    Bytes packed;
    ASSERT_EQ(sdp::pack(shuffled, packed), Status::ok);
    std::string back;
    ASSERT_EQ(sdp::unpack(packed, back), Status::ok);
    ASSERT_EQ(back, shuffled);
    largest = std::max(largest, packed.size());
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 720u);
  EXPECT_LE(largest, canonical.size() + 3) << "an order costs the two bytes of its rank, and a byte of coding";
}

TEST(SdpCodec, CandidateOrderMarkerIsVersion2OnlyAndChecked) {
  // 0x14, n = 2, rank 1: the two lines swapped.
  const std::string skeleton = std::string("\x14\x02\x00\x01", 4) + "a=candidate:a\r\na=candidate:b\r\nx\r\n";
  std::string out;
  ASSERT_EQ(sdp::unpack(packed_skeleton(2, skeleton, {}), out), Status::ok);
  EXPECT_EQ(out, "a=candidate:b\r\na=candidate:a\r\nx\r\n");
  EXPECT_EQ(sdp::unpack(packed_skeleton(1, skeleton, {}), out), Status::bad_packed_sdp);
  // n outside 2..8, a rank of n! or more, a run with fewer lines than announced, a run inside a run.
  const auto marker = [](char n, char rank) { return std::string{'\x14', n, '\x00', rank}; };
  for (const std::string& bad : {marker(1, 0) + "a\r\n", marker(9, 0) + "a\r\n", marker(2, 2) + "a\r\nb\r\n",
                                 marker(3, 0) + "a\r\nb\r\n", marker(2, 0) + marker(2, 0) + "a\r\nb\r\n"}) {
    EXPECT_EQ(sdp::unpack(packed_skeleton(2, bad, {}), out), Status::bad_packed_sdp) << testing::PrintToString(bad);
  }
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
  ExpectTokensRoundTrip(sdp);
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
  const std::uint8_t v3[] = {0x30, 0x03, 0x00};
  EXPECT_EQ(sdp::unpack(v3, out), Status::unsupported_version);
  const std::uint8_t v0[] = {0x00, 0x03, 0x00};
  EXPECT_EQ(sdp::unpack(v0, out), Status::unsupported_version);
  EXPECT_EQ(sdp::pack_version("v=0\r\n", 3, packed), Status::unsupported_version);
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
