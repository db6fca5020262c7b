// Builds a complete Web Push request (RFC 8030 + 8291 + 8292) for a PushSubscription.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pushpeer/bytes.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/status.hpp"
#include "pushpeer/vapid.hpp"

namespace pushpeer {

struct Subscription {
  std::string endpoint;
  p256::PublicKey p256dh{};  // the user agent's P-256 key
  Secret<16> auth;           // the subscription's authentication secret (wiped with the struct)
};

// PushSubscription.toJSON(): {"endpoint": "...", "keys": {"p256dh": "...", "auth": "..."}, ...}.
// Keys are base64url; valid '=' padding, which some user agents emit, is tolerated here only. Checks the
// endpoint (as for VAPID), the key lengths and that p256dh is on the curve.
Status parse_subscription(std::string_view json, Subscription& subscription);

// Reuses signed VAPID tokens per (audience, subject, key) until they come within `min_remaining` seconds of
// expiry: signing is the costliest step of a request after ECDH. Holds no secrets.
class VapidTokenCache {
 public:
  static constexpr std::int64_t kMinRemainingSeconds = 60 * 60;
  // Returns the Authorization value, signing a new token (exp = now + 12 h) when none is fresh enough.
  Status authorization(std::string_view endpoint, std::string_view subject, ByteView private_key,
                       ByteView public_key, std::int64_t now, std::string& header);
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    std::string audience, subject;
    Bytes public_key;
    std::array<std::uint8_t, 32> private_key_tag;  // SHA-256 over a label and the private key, not the key
    std::int64_t exp;
    std::string header;
  };
  std::vector<Entry> entries_;  // small: one per push service and identity in use
};

struct PushRequestOptions {
  // The subscription, parsed (takes precedence) or as PushSubscription JSON.
  const Subscription* subscription = nullptr;
  std::string_view subscription_json;
  ByteView payload;
  ByteView vapid_private_key;
  ByteView vapid_public_key;
  std::string_view subject;
  std::int64_t now = 0;          // seconds since the epoch
  std::uint32_t ttl = 0;         // seconds; RFC 8030 §5.2 (capped at 28 days here)
  std::string_view urgency;      // "", "very-low", "low", "normal" or "high"
  std::string_view topic;        // "" or up to 32 base64url characters
  std::uint32_t record_size = 4096;
  VapidTokenCache* cache = nullptr;  // optional
};

struct PushRequest {
  std::string endpoint;
  std::vector<std::pair<std::string, std::string>> headers;
  Bytes body;
};

inline constexpr std::uint32_t kMaxTtlSeconds = 28 * 24 * 60 * 60;

Status build_push_request(const PushRequestOptions& options, PushRequest& request);

}  // namespace pushpeer
