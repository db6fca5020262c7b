#include "pushpeer/push_request.hpp"
#include "pushpeer/for_size.hpp"

#include <algorithm>

#include "json_reader.hpp"
#include "pushpeer/base64url.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/symmetric.hpp"
#include "pushpeer/webpush.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer {

namespace {

Status decode_key(const json::Value& keys, const char* name, std::span<std::uint8_t> out) {
  const json::Value* key = keys.get(name);
  if (key == nullptr || !key->is_string()) return Status::bad_subscription;
  std::string_view text = key->string;
  // RFC 4648 §3.2: padding completes the text to a multiple of 4 characters, so it is one or two '='.
  std::size_t pad = 0;
  while (pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  if (pad > 0 && (pad > 2 || text.size() % 4 != 0)) return Status::bad_base64;
  text.remove_suffix(pad);
  SecretBytes decoded;
  if (Status s = base64url::decode(text, decoded.bytes); s != Status::ok) return s;
  if (decoded.bytes.size() != out.size()) return Status::bad_key;
  std::copy(decoded.bytes.begin(), decoded.bytes.end(), out.begin());
  return Status::ok;
}

// Tags the private key a cached token was signed with, so a lookup with another private key misses.
std::array<std::uint8_t, 32> private_key_tag(ByteView private_key) {
  static constexpr char kLabel[] = "pushpeer vapid token cache";
  std::array<std::uint8_t, 32> tag;
  symmetric::hmac_sha256(as_bytes(kLabel), private_key, tag.data());
  return tag;
}

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

Status parse_subscription(std::string_view json_text, Subscription& subscription) {
  json::Value j;
  const json::Value* endpoint = nullptr;
  const json::Value* keys = nullptr;
  if (!json::parse(json_text, j) || (endpoint = j.get("endpoint")) == nullptr || !endpoint->is_string() ||
      (keys = j.get("keys")) == nullptr || !keys->is_object()) {
    return Status::bad_subscription;
  }
  subscription.endpoint = endpoint->string;
  std::string audience;
  if (Status s = vapid::audience_for_endpoint(subscription.endpoint, audience); s != Status::ok) return s;
  if (Status s = decode_key(*keys, "p256dh", subscription.p256dh); s != Status::ok) return s;
  if (Status s = decode_key(*keys, "auth", subscription.auth.span()); s != Status::ok) return s;
  return p256::validate_public_key(subscription.p256dh);
}

Status VapidTokenCache::authorization(std::string_view endpoint, std::string_view subject, ByteView private_key,
                                      ByteView public_key, std::int64_t now, std::string& header) {
  std::string audience;
  if (Status s = vapid::audience_for_endpoint(endpoint, audience); s != Status::ok) return s;
  const std::array<std::uint8_t, 32> tag = private_key_tag(private_key);
  auto same = [&](const Entry& e) {
    return e.audience == audience && e.subject == subject &&
           std::equal(e.public_key.begin(), e.public_key.end(), public_key.begin(), public_key.end()) &&
           equal_ct(e.private_key_tag, tag);
  };
  auto it = std::find_if(entries_.begin(), entries_.end(), same);
  // A token is reused only while it stays valid for at least kMinRemainingSeconds, and never one that claims
  // more than 24 h ahead of now (if the clock went backwards).
  if (it != entries_.end() && it->exp - now >= kMinRemainingSeconds && it->exp - now <= vapid::kMaxLifetimeSeconds) {
    header = it->header;
    return Status::ok;
  }
  const std::int64_t exp = now + vapid::kDefaultLifetimeSeconds;
  std::string fresh;
  if (Status s = vapid::authorization(endpoint, subject, private_key, public_key, exp, now, fresh); s != Status::ok) {
    return s;
  }
  if (it == entries_.end()) {
    if (entries_.size() >= 64) entries_.erase(entries_.begin());  // bounded: oldest out
    entries_.push_back(
        {audience, std::string(subject), Bytes(public_key.begin(), public_key.end()), tag, exp, fresh});
  } else {
    it->exp = exp;
    it->header = fresh;
  }
  header = std::move(fresh);
  return Status::ok;
}

Status build_push_request(const PushRequestOptions& o, PushRequest& request) {
  Subscription parsed;
  if (o.subscription == nullptr) {
    if (Status s = parse_subscription(o.subscription_json, parsed); s != Status::ok) return s;
  } else {
    std::string audience;
    if (Status s = vapid::audience_for_endpoint(o.subscription->endpoint, audience); s != Status::ok) return s;
  }
  const Subscription& sub = o.subscription != nullptr ? *o.subscription : parsed;
  if (o.ttl > kMaxTtlSeconds) return Status::bad_ttl;
  if (!o.urgency.empty() && o.urgency != "very-low" && o.urgency != "low" && o.urgency != "normal" &&
      o.urgency != "high") {
    return Status::bad_urgency;
  }
  // RFC 8030 §5.4: a topic is at most 32 characters of the URL- and filename-safe base64 alphabet.
  if (o.topic.size() > 32 || !std::all_of(o.topic.begin(), o.topic.end(), is_base64url_char)) return Status::bad_topic;
  if (webpush::kWebPushHeaderLength + o.payload.size() + 17 > webpush::kMaxBodyLength) {
    return Status::payload_too_large;
  }

  std::string authorization;
  const Status auth_status =
      o.cache != nullptr
          ? o.cache->authorization(sub.endpoint, o.subject, o.vapid_private_key, o.vapid_public_key, o.now,
                                   authorization)
          : vapid::authorization(sub.endpoint, o.subject, o.vapid_private_key, o.vapid_public_key,
                                 o.now + vapid::kDefaultLifetimeSeconds, o.now, authorization);
  if (auth_status != Status::ok) return auth_status;

  Bytes body;
  if (Status s = webpush::encrypt(sub.p256dh, sub.auth.view(), o.payload, o.record_size, 0, body); s != Status::ok) {
    return s;
  }
  request.endpoint = sub.endpoint;
  request.body = std::move(body);
  request.headers.clear();
  request.headers.emplace_back("Authorization", std::move(authorization));
  request.headers.emplace_back("Content-Encoding", "aes128gcm");
  request.headers.emplace_back("Content-Type", "application/octet-stream");
  request.headers.emplace_back("TTL", std::to_string(o.ttl));
  if (!o.urgency.empty()) request.headers.emplace_back("Urgency", std::string(o.urgency));
  if (!o.topic.empty()) request.headers.emplace_back("Topic", std::string(o.topic));
  return Status::ok;
}

}  // namespace pushpeer

PUSHPEER_FOR_SIZE_END
