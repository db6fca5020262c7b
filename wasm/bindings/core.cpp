// Embind: keys, Web Push encryption (RFC 8291), VAPID (RFC 8292), push requests, hashing, status names and the
// limits js/core.js checks arguments against before copying them into the heap.

#include "common.hpp"
#include "pushpeer/for_size.hpp"
#include "pushpeer/card.hpp"
#include "pushpeer/content/frame.hpp"
#include "pushpeer/content/manifest.hpp"
#include "pushpeer/content/site.hpp"
#include "pushpeer/envelope.hpp"
#include "pushpeer/group.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/push_request.hpp"
#include "pushpeer/sdp_codec.hpp"
#include "pushpeer/symmetric.hpp"
#include "pushpeer/vapid.hpp"
#include "pushpeer/webpush.hpp"

using namespace pushpeer;
using namespace pushpeer::js;
PUSHPEER_FOR_SIZE_BEGIN  // glue: compiled for size, the core it calls keeps its own (pushpeer/for_size.hpp)

namespace {

VapidTokenCache& token_cache() {
  static VapidTokenCache cache;
  return cache;
}

std::string status_name_of(int s) { return status_name(static_cast<Status>(s)); }
std::string status_message_of(int s) { return status_message(static_cast<Status>(s)); }

// The protocol's limits and numbers, so that js/core.js refuses oversized arguments before they reach the heap and
// never repeats a number the core owns.
val constants() {
  val types = val::object();
  put(types, "offer", static_cast<int>(envelope::Type::offer));
  put(types, "answer", static_cast<int>(envelope::Type::answer));
  put(types, "bye", static_cast<int>(envelope::Type::bye));
  put(types, "card", static_cast<int>(envelope::Type::card));
  // Every status name the core can return, so a test can check that each one is declared in js/core.d.ts.
  val names = val::array();
  int n = 0;
  for (int v = 0; v >= kLowestStatus; --v) {
    if (status_known(static_cast<Status>(v))) names.set(n++, std::string(status_name(static_cast<Status>(v))));
  }
  val o = val::object();
  put(o, "statusNames", names);
  put(o, "envelopeTypes", types);
  put(o, "keyIdLength", static_cast<double>(std::tuple_size_v<card::KeyId>));
  put(o, "sessionIdLength", static_cast<double>(std::tuple_size_v<envelope::SessionId>));
  put(o, "refLength", static_cast<double>(envelope::kRefLength));
  put(o, "maxPayload", static_cast<double>(webpush::kMaxPlaintextLength));
  put(o, "maxPushBody", static_cast<double>(webpush::kMaxBodyLength));
  put(o, "maxEnvelopeBody", static_cast<double>(envelope::kMaxBodyLength));
  put(o, "maxCard", static_cast<double>(card::kMaxLength));
  put(o, "maxEndpoint", static_cast<double>(card::kMaxEndpointLength));
  put(o, "maxSubject", static_cast<double>(card::kMaxSubjectLength));
  put(o, "maxName", static_cast<double>(card::kMaxNameLength));
  put(o, "maxSdp", static_cast<double>(sdp::kMaxSdpLength));
  put(o, "maxJwt", static_cast<double>(vapid::kMaxJwtLength));
  put(o, "maxEnvelopeText", static_cast<double>(envelope::kMaxTextLength));
  put(o, "envelopeMaxAge", static_cast<double>(envelope::kDefaultMaxAgeSeconds));
  put(o, "envelopeMaxSkew", static_cast<double>(envelope::kDefaultMaxSkewSeconds));
  put(o, "maxTtl", static_cast<double>(kMaxTtlSeconds));
  put(o, "minGroupSecret", static_cast<double>(group::kMinSecretLength));
  put(o, "maxGroupSecret", static_cast<double>(group::kMaxSecretLength));
  put(o, "groupIdLength", static_cast<double>(group::kIdLength));
  put(o, "groupProofLength", static_cast<double>(group::kProofLength));
  // Share by link (docs/PROTOCOL.md §9): js/core.js gathers these as limits.content.
  put(o, "leafSize", static_cast<double>(content::kLeafSize));
  put(o, "maxContentSize", static_cast<double>(content::kMaxSize));
  put(o, "maxRangeLeaves", static_cast<double>(content::kMaxRangeLeaves));
  put(o, "maxFrameLength", static_cast<double>(frame::kMaxFrameLength));
  put(o, "maxDataHeadLength", static_cast<double>(frame::kMaxDataHeadLength));
  put(o, "pieceLeaves", static_cast<double>(frame::kPieceLeaves));
  put(o, "maxPieces", static_cast<double>(frame::kMaxPieces));
  put(o, "maxManifestLength", static_cast<double>(manifest::kMaxLength));
  put(o, "maxFiles", static_cast<double>(manifest::kMaxFiles));
  put(o, "maxTitleLength", static_cast<double>(manifest::kMaxTitleLength));
  put(o, "maxFileNameLength", static_cast<double>(manifest::kMaxNameLength));
  put(o, "maxTypeLength", static_cast<double>(manifest::kMaxTypeLength));
  put(o, "maxSiteManifestLength", static_cast<double>(site::kMaxLength));
  return o;
}

val generate_key_pair() {
  p256::PrivateKey priv;
  p256::PublicKey pub;
  if (Status s = p256::generate_key_pair(priv, pub); s != Status::ok) return fail(s);
  val out = val::object();
  put(out, "publicKey", copy_out(pub));
  put(out, "privateKey", copy_out(priv.view()));
  return out;
}

val public_key_from_private(std::uintptr_t p, std::size_t n) {
  p256::PublicKey pub;
  return bytes_or_fail(p256::public_key_from_private(in(p, n), pub), pub);
}

val vapid_authorization(std::string endpoint, std::string subject, std::uintptr_t priv, std::size_t priv_len,
                        std::uintptr_t pub, std::size_t pub_len, double expiration, double now) {
  std::string header;
  Status s = vapid::authorization(endpoint, subject, in(priv, priv_len), in(pub, pub_len), seconds(expiration),
                                  seconds(now), header);
  return s == Status::ok ? val(header) : fail(s);
}

val verify_jwt(std::string jwt, std::uintptr_t pub, std::size_t pub_len) {
  vapid::Claims claims;
  if (Status s = vapid::verify_jwt(jwt, in(pub, pub_len), claims); s != Status::ok) return fail(s);
  val out = val::object();
  put(out, "aud", claims.aud);
  put(out, "exp", static_cast<double>(claims.exp));
  put(out, "sub", claims.sub);
  return out;
}

val encrypt(std::uintptr_t p256dh, std::size_t p256dh_len, std::uintptr_t auth, std::size_t auth_len,
            std::uintptr_t pt, std::size_t pt_len, double record_size, double padding) {
  if (!(record_size >= 0 && record_size <= UINT32_MAX && padding >= 0 && padding <= UINT32_MAX)) {
    return fail(Status::bad_argument);
  }
  Bytes body;
  Status s = webpush::encrypt(in(p256dh, p256dh_len), in(auth, auth_len), in(pt, pt_len),
                              static_cast<std::uint32_t>(record_size), static_cast<std::size_t>(padding), body);
  return bytes_or_fail(s, body);
}

val decrypt(std::uintptr_t priv, std::size_t priv_len, std::uintptr_t pub, std::size_t pub_len, std::uintptr_t auth,
            std::size_t auth_len, std::uintptr_t body, std::size_t body_len) {
  Bytes plaintext;
  Status s = webpush::decrypt(in(priv, priv_len), in(pub, pub_len), in(auth, auth_len), in(body, body_len), plaintext);
  val out = bytes_or_fail(s, plaintext);
  wipe(plaintext.data(), plaintext.size());
  return out;
}

// The subscription arrives parsed (js/core.js): its auth secret only enters the heap through a wiped buffer.
val push_request_js(std::string endpoint, std::uintptr_t p256dh, std::size_t p256dh_len, std::uintptr_t auth,
                    std::size_t auth_len, std::uintptr_t payload, std::size_t payload_len, std::uintptr_t priv,
                    std::size_t priv_len, std::uintptr_t pub, std::size_t pub_len, std::string subject, double now,
                    double ttl, std::string urgency, std::string topic) {
  if (!(ttl >= 0 && ttl <= kMaxTtlSeconds && std::floor(ttl) == ttl)) return fail(Status::bad_ttl);
  Subscription subscription;
  if (!copy_exact(in(p256dh, p256dh_len), subscription.p256dh) ||
      !copy_exact(in(auth, auth_len), subscription.auth.span())) {
    return fail(Status::bad_key);
  }
  subscription.endpoint = std::move(endpoint);
  PushRequestOptions o;
  o.subscription = &subscription;
  o.payload = in(payload, payload_len);
  o.vapid_private_key = in(priv, priv_len);
  o.vapid_public_key = in(pub, pub_len);
  o.subject = subject;
  o.now = seconds(now);
  o.ttl = static_cast<std::uint32_t>(ttl);
  o.urgency = urgency;
  o.topic = topic;
  o.cache = &token_cache();
  PushRequest request;
  if (Status s = pushpeer::build_push_request(o, request); s != Status::ok) return fail(s);
  val headers = val::object();
  for (const auto& [name, value] : request.headers) headers.set(name, value);
  val out = val::object();
  put(out, "endpoint", request.endpoint);
  put(out, "headers", headers);
  put(out, "body", copy_out(request.body));
  return out;
}

// Content hashing (files over the data channel, docs/PROTOCOL.md §8).
val sha256(std::uintptr_t msg, std::size_t msg_len) {
  std::uint8_t out[symmetric::kSha256Length];
  symmetric::sha256(in(msg, msg_len), out);
  return copy_out({out, sizeof out});
}

}  // namespace

EMSCRIPTEN_BINDINGS(pushpeer_core) {
  using emscripten::function;
  function("statusName", &status_name_of);
  function("statusMessage", &status_message_of);
  function("constants", &constants);
  function("generateKeyPair", &generate_key_pair);
  function("publicKeyFromPrivate", &public_key_from_private);
  function("vapidAuthorization", &vapid_authorization);
  function("verifyJwt", &verify_jwt);
  function("encrypt", &encrypt);
  function("decrypt", &decrypt);
  function("buildPushRequest", &push_request_js);
  function("sha256", &sha256);
}

PUSHPEER_FOR_SIZE_END
