#include "pushpeer/card.hpp"
#include "pushpeer/for_size.hpp"

#include <algorithm>
#include <cstring>

#include "pushpeer/base64url.hpp"
#include "pushpeer/symmetric.hpp"
#include "pushpeer/text.hpp"
#include "pushpeer/vapid.hpp"
#include "wire.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::card {

namespace {

// Known push-service endpoint prefixes, one byte on the wire (0 = none). Append only: ids are wire format.
constexpr std::string_view kPrefixes[] = {
    "",
    "https://updates.push.services.mozilla.com/wpush/v2/",
    "https://updates.push.services.mozilla.com/wpush/v1/",
    "https://fcm.googleapis.com/fcm/send/",
    "https://fcm.googleapis.com/wp/",
    "https://web.push.apple.com/",
    "https://",  // anything else on https, e.g. WNS (*.notify.windows.com)
};
constexpr std::uint8_t kRestIsBase64 = 0x80;  // the rest after the prefix is stored base64url-decoded

constexpr std::string_view kSignatureContext = "pushpeer/card/v2";

Status sign_or_verify(ByteView body, ByteView key, p256::Signature* sign_out, ByteView verify_sig) {
  Bytes input(kSignatureContext.begin(), kSignatureContext.end());
  input.insert(input.end(), body.begin(), body.end());
  if (sign_out != nullptr) return p256::sign_low_s(key, input, *sign_out);
  return p256::verify_low_s(key, input, verify_sig);
}

}  // namespace

KeyId key_id(const p256::PublicKey& identity) {
  p256::CompressedKey c{};
  (void)p256::compress(identity, c);  // identities are validated wherever they enter
  std::uint8_t h[symmetric::kSha256Length];
  symmetric::sha256(c, h);
  KeyId id;
  std::memcpy(id.data(), h, id.size());
  return id;
}

Status encode(const Card& card, ByteView identity_private, Bytes& out) {
  out.clear();
  if (card.endpoint.size() > kMaxEndpointLength || card.subject.size() > kMaxSubjectLength ||
      card.name.size() > kMaxNameLength || card.grants.size() > grant::kMaxGrants) {
    return Status::bad_argument;
  }
  if (!text::valid_display_text(card.name)) return Status::bad_text;
  std::string audience;
  if (Status s = vapid::audience_for_endpoint(card.endpoint, audience); s != Status::ok) return s;
  if (Status s = vapid::check_subject(card.subject); s != Status::ok) return s;
  p256::PublicKey derived;
  if (Status s = p256::public_key_from_private(identity_private, derived); s != Status::ok) return s;
  if (derived != card.identity) return Status::bad_key;

  wire::Writer w;
  w.u8(kMagic);
  w.u8(card.name.empty() ? 0 : 1);
  w.u32(card.created);
  // Endpoint: the longest known prefix, then the rest as text or (when it is strict base64url) as bytes.
  std::uint8_t prefix = 0;
  for (std::uint8_t i = 1; i < std::size(kPrefixes); ++i) {
    if (card.endpoint.starts_with(kPrefixes[i]) && kPrefixes[i].size() > kPrefixes[prefix].size()) prefix = i;
  }
  const std::string_view rest = std::string_view(card.endpoint).substr(kPrefixes[prefix].size());
  Bytes decoded;
  if (!rest.empty() && base64url::decode(rest, decoded) == Status::ok && base64url::encode(decoded) == rest) {
    w.u8(prefix | kRestIsBase64);
    w.blob(decoded);
  } else {
    w.u8(prefix);
    w.blob(as_bytes(rest));
  }
  p256::CompressedKey c;
  if (Status s = p256::compress(card.p256dh, c); s != Status::ok) return s;
  w.bytes(c);
  w.bytes(card.auth);
  if (Status s = p256::compress(card.identity, c); s != Status::ok) return s;
  w.bytes(c);
  w.blob(as_bytes(card.subject));
  if (!card.name.empty()) w.blob(as_bytes(card.name));
  w.u8(static_cast<std::uint8_t>(card.grants.size()));
  for (const grant::Grant& g : card.grants) {
    w.u32(g.exp);
    w.bytes(g.signature);
  }
  p256::Signature sig;
  if (Status s = sign_or_verify(w.out, identity_private, &sig, {}); s != Status::ok) return s;
  w.bytes(sig);
  if (w.out.size() > kMaxLength) return Status::bad_argument;
  out = std::move(w.out);
  return Status::ok;
}

namespace {

// Structure, limits and keys; no signature checked. signed_part and signature are views into bytes.
Status parse(ByteView bytes, Card& card, ByteView& signed_part, ByteView& signature) {
  card = Card{};
  if (bytes.size() > kMaxLength || bytes.size() < 2) return Status::bad_card;
  wire::Reader r{bytes};
  if (r.u8() != kMagic) return bytes[0] >> 4 == (kMagic >> 4) ? Status::unsupported_version : Status::bad_card;
  const std::uint8_t flags = r.u8();
  if (flags > 1) return Status::bad_card;
  card.created = r.u32();
  const std::uint8_t prefix_byte = r.u8();
  const std::uint8_t prefix = prefix_byte & 0x7F;
  if (!r.ok || prefix >= std::size(kPrefixes)) return Status::bad_card;
  const ByteView rest = r.blob(kMaxEndpointLength);
  card.endpoint = std::string(kPrefixes[prefix]);
  if (prefix_byte & kRestIsBase64) {
    if (rest.empty()) return Status::bad_card;
    card.endpoint += base64url::encode(rest);
  } else {
    card.endpoint.append(reinterpret_cast<const char*>(rest.data()), rest.size());
  }
  const ByteView p256dh = r.bytes(p256::kCompressedLength);
  const ByteView auth = r.bytes(16);
  const ByteView identity = r.bytes(p256::kCompressedLength);
  const ByteView subject = r.blob(kMaxSubjectLength);
  const ByteView name = (flags & 1) ? r.blob(kMaxNameLength) : ByteView();
  const std::size_t count = r.u8();
  if (!r.ok || count > grant::kMaxGrants || ((flags & 1) && name.empty())) return Status::bad_card;
  for (std::size_t i = 0; i < count; ++i) {
    grant::Grant g;
    g.exp = r.u32();
    const ByteView sig = r.bytes(p256::kSignatureLength);
    if (!r.ok) return Status::bad_card;
    std::copy(sig.begin(), sig.end(), g.signature.begin());
    card.grants.push_back(g);
  }
  signed_part = bytes.first(r.at);
  signature = r.bytes(p256::kSignatureLength);
  if (!r.done()) return Status::bad_card;

  card.subject.assign(reinterpret_cast<const char*>(subject.data()), subject.size());
  card.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
  if (!text::valid_display_text(card.name)) return Status::bad_card;
  std::string audience;
  if (vapid::audience_for_endpoint(card.endpoint, audience) != Status::ok ||
      vapid::check_subject(card.subject) != Status::ok) {
    return Status::bad_card;
  }
  if (p256::decompress(p256dh, card.p256dh) != Status::ok || p256::decompress(identity, card.identity) != Status::ok) {
    return Status::bad_key;
  }
  std::copy(auth.begin(), auth.end(), card.auth.begin());
  return Status::ok;
}

}  // namespace

Status identity_of(ByteView bytes, p256::PublicKey& identity) {
  Card card;
  ByteView signed_part, signature;
  if (Status s = parse(bytes, card, signed_part, signature); s != Status::ok) return s;
  identity = card.identity;
  return Status::ok;
}

Status decode(ByteView bytes, Card& card) {
  ByteView signed_part, signature;
  if (Status s = parse(bytes, card, signed_part, signature); s != Status::ok) return s;
  if (Status s = sign_or_verify(signed_part, card.identity, nullptr, signature); s != Status::ok) return s;
  for (const grant::Grant& g : card.grants) {
    if (Status s = grant::verify(g, card.endpoint, card.subject, card.identity); s != Status::ok) return s;
  }
  return Status::ok;
}

}  // namespace pushpeer::card

PUSHPEER_FOR_SIZE_END
