// Native Google Benchmark of the core: Web Push encrypt/decrypt per payload size, VAPID signing, P-256 ECDH and
// key generation, with BearSSL's stock br_ec_p256_m31 measured beside our windowed implementation.
#include <benchmark/benchmark.h>
#include <bearssl.h>

#include <cstring>

#include "pushpeer/base64url.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/push_request.hpp"
#include "pushpeer/vapid.hpp"
#include "pushpeer/webpush.hpp"

extern "C" const br_ec_impl pushpeer_p256_window;

using namespace pushpeer;

namespace {

struct Keys {
  p256::PrivateKey priv;
  p256::PublicKey pub;
  Keys() { p256::generate_key_pair(priv, pub); }
};

const std::uint8_t kAuth[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

// Payload sizes: 100 B, 1 KB and the largest that fits one push (3993 B, "4 KB").
void Sizes(benchmark::internal::Benchmark* b) { b->Arg(100)->Arg(1024)->Arg(webpush::kMaxPlaintextLength); }

void BM_WebPushEncrypt(benchmark::State& state) {
  Keys ua;
  Bytes payload(static_cast<std::size_t>(state.range(0)), 0x61), body;
  for (auto _ : state) {
    webpush::encrypt(ua.pub, {kAuth, 16}, payload, 4096, 0, body);
    benchmark::DoNotOptimize(body.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_WebPushEncrypt)->Apply(Sizes);

void BM_WebPushDecrypt(benchmark::State& state) {
  Keys ua;
  Bytes payload(static_cast<std::size_t>(state.range(0)), 0x61), body, out;
  webpush::encrypt(ua.pub, {kAuth, 16}, payload, 4096, 0, body);
  for (auto _ : state) {
    webpush::decrypt(ua.priv.view(), ua.pub, {kAuth, 16}, body, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_WebPushDecrypt)->Apply(Sizes);

void BM_PushRequest(benchmark::State& state) {
  Keys ua, vapid_keys;
  const std::string json = R"({"endpoint":"https://fcm.googleapis.com/fcm/send/x","keys":{"p256dh":")" +
                           base64url::encode(ua.pub) + R"(","auth":"AQIDBAUGBwgJCgsMDQ4PEA"}})";
  Bytes payload(static_cast<std::size_t>(state.range(0)), 0x61);
  VapidTokenCache cache;
  PushRequestOptions o;
  o.subscription_json = json;
  o.payload = payload;
  o.vapid_private_key = vapid_keys.priv.view();
  o.vapid_public_key = vapid_keys.pub;
  o.subject = "mailto:bench@example.invalid";
  o.now = 1700000000;
  o.ttl = 60;
  o.cache = &cache;
  PushRequest r;
  for (auto _ : state) {
    build_push_request(o, r);
    benchmark::DoNotOptimize(r.body.data());
  }
}
BENCHMARK(BM_PushRequest)->Apply(Sizes);

void BM_VapidSign(benchmark::State& state) {
  Keys k;
  vapid::Claims claims{"https://fcm.googleapis.com", 1700000000 + 3600, "mailto:bench@example.invalid"};
  std::string jwt;
  for (auto _ : state) {
    vapid::sign_jwt(k.priv.view(), claims, 1700000000, jwt);
    benchmark::DoNotOptimize(jwt.data());
  }
}
BENCHMARK(BM_VapidSign);

void BM_VapidVerify(benchmark::State& state) {
  Keys k;
  vapid::Claims claims{"https://fcm.googleapis.com", 1700000000 + 3600, "mailto:bench@example.invalid"}, out;
  std::string jwt;
  vapid::sign_jwt(k.priv.view(), claims, 1700000000, jwt);
  for (auto _ : state) benchmark::DoNotOptimize(vapid::verify_jwt(jwt, k.pub, out));
}
BENCHMARK(BM_VapidVerify);

void BM_Ecdh(benchmark::State& state) {
  Keys a, b;
  p256::SharedSecret s;
  for (auto _ : state) benchmark::DoNotOptimize(p256::ecdh(a.priv.view(), b.pub, s));
}
BENCHMARK(BM_Ecdh);

void BM_KeyGen(benchmark::State& state) {
  p256::PrivateKey priv;
  p256::PublicKey pub;
  for (auto _ : state) benchmark::DoNotOptimize(p256::generate_key_pair(priv, pub));
}
BENCHMARK(BM_KeyGen);

// Side by side: BearSSL's stock m31 (arg 0) and ours (arg 1), same scalars and points.
const br_ec_impl* ImplFor(std::int64_t which) { return which == 0 ? &br_ec_p256_m31 : &pushpeer_p256_window; }

void BM_Mulgen(benchmark::State& state) {
  const br_ec_impl* impl = ImplFor(state.range(0));
  Keys k;
  std::uint8_t out[65];
  for (auto _ : state) benchmark::DoNotOptimize(impl->mulgen(out, k.priv.data(), 32, BR_EC_secp256r1));
  state.SetLabel(state.range(0) == 0 ? "bearssl m31" : "pushpeer window");
}
BENCHMARK(BM_Mulgen)->Arg(0)->Arg(1);

void BM_Mul(benchmark::State& state) {
  const br_ec_impl* impl = ImplFor(state.range(0));
  Keys k, p;
  std::uint8_t point[65];
  for (auto _ : state) {
    std::memcpy(point, p.pub.data(), 65);
    benchmark::DoNotOptimize(impl->mul(point, 65, k.priv.data(), 32, BR_EC_secp256r1));
  }
  state.SetLabel(state.range(0) == 0 ? "bearssl m31" : "pushpeer window");
}
BENCHMARK(BM_Mul)->Arg(0)->Arg(1);

}  // namespace

// SDP codec on the corpus (tests/corpus/sdp, read in place): one benchmark per file.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pushpeer/sdp_codec.hpp"

namespace {

std::string ReadCorpus(const char* name) {
  std::ifstream f(std::filesystem::path(PUSHPEER_SDP_CORPUS) / name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void BM_SdpPack(benchmark::State& state, const char* name) {
  const std::string sdp = ReadCorpus(name);
  pushpeer::Bytes packed;
  for (auto _ : state) benchmark::DoNotOptimize(pushpeer::sdp::pack(sdp, packed));
  state.SetLabel(std::to_string(sdp.size()) + " -> " + std::to_string(packed.size()) + " bytes");
}

void BM_SdpUnpack(benchmark::State& state, const char* name) {
  const std::string sdp = ReadCorpus(name);
  pushpeer::Bytes packed;
  pushpeer::sdp::pack(sdp, packed);
  std::string out;
  for (auto _ : state) benchmark::DoNotOptimize(pushpeer::sdp::unpack(packed, out));
}

BENCHMARK_CAPTURE(BM_SdpPack, chromium_dc_offer, "datachannel-turn-chromium-firefox-offer.sdp");
BENCHMARK_CAPTURE(BM_SdpPack, chromium_av_offer, "audio-video-turn-chromium-firefox-offer.sdp");
BENCHMARK_CAPTURE(BM_SdpUnpack, chromium_dc_offer, "datachannel-turn-chromium-firefox-offer.sdp");
BENCHMARK_CAPTURE(BM_SdpUnpack, chromium_av_offer, "audio-video-turn-chromium-firefox-offer.sdp");

}  // namespace
