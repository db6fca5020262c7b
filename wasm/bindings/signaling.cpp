// Embind: compact SDP, grants, cards, envelopes and the replay guard (docs/PROTOCOL.md §2-4), groups (§7.8).

#include "common.hpp"
#include "pushpeer/for_size.hpp"
#include "pushpeer/card.hpp"
#include "pushpeer/envelope.hpp"
#include "pushpeer/grant.hpp"
#include "pushpeer/group.hpp"
#include "pushpeer/neighbour.hpp"
#include "pushpeer/sdp_codec.hpp"
#include "pushpeer/webpush.hpp"

using namespace pushpeer;
using namespace pushpeer::js;
PUSHPEER_FOR_SIZE_BEGIN  // glue: compiled for size, the core it calls keeps its own (pushpeer/for_size.hpp)

namespace {

val pack_sdp(std::uintptr_t text, std::size_t len) {
  Bytes packed;
  Status s = sdp::pack({reinterpret_cast<const char*>(text), len}, packed);
  return bytes_or_fail(s, packed);
}

val unpack_sdp(std::uintptr_t packed, std::size_t len) {
  std::string text;
  Status s = sdp::unpack(in(packed, len), text);
  return s == Status::ok ? copy_out(as_bytes(text)) : fail(s);
}

envelope::ReplayGuard& replay_guard() {
  static envelope::ReplayGuard guard;
  return guard;
}

val grants_to_js(const std::vector<grant::Grant>& grants) {
  val list = val::array();  // filled by index: val::call would need thread-local storage (no atomics here)
  for (std::size_t i = 0; i < grants.size(); ++i) {
    val o = val::object();
    put(o, "exp", static_cast<double>(grants[i].exp));
    put(o, "signature", copy_out(grants[i].signature));
    list.set(static_cast<int>(i), o);
  }
  return list;
}

// Grants arrive flattened: n x (exp u32 big-endian, 64-byte signature).
bool grants_from_bytes(ByteView flat, std::vector<grant::Grant>& grants) {
  if (flat.size() % grant::kWireLength != 0 || flat.size() / grant::kWireLength > grant::kMaxGrants) return false;
  for (std::size_t at = 0; at < flat.size(); at += grant::kWireLength) {
    grant::Grant g;
    g.exp = std::uint32_t{flat[at]} << 24 | std::uint32_t{flat[at + 1]} << 16 | std::uint32_t{flat[at + 2]} << 8 |
            flat[at + 3];
    std::copy(flat.begin() + static_cast<std::ptrdiff_t>(at + 4),
              flat.begin() + static_cast<std::ptrdiff_t>(at + grant::kWireLength), g.signature.begin());
    grants.push_back(g);
  }
  return true;
}

val issue_grants(std::uintptr_t priv, std::size_t priv_len, std::string endpoint, std::string subject, double first_exp,
                 double interval, double count) {
  if (!(first_exp >= 0 && first_exp <= UINT32_MAX && interval >= 0 && interval <= UINT32_MAX && count >= 1 &&
        count <= grant::kMaxGrants)) {
    return fail(Status::bad_argument);
  }
  std::vector<grant::Grant> grants;
  Status s = grant::issue(in(priv, priv_len), endpoint, subject, static_cast<std::uint32_t>(first_exp),
                          static_cast<std::uint32_t>(interval), static_cast<std::size_t>(count), grants);
  return s == Status::ok ? grants_to_js(grants) : fail(s);
}

val create_card(std::uintptr_t priv, std::size_t priv_len, std::string endpoint, std::uintptr_t p256dh,
                std::size_t p256dh_len, std::uintptr_t auth, std::size_t auth_len, std::string subject, std::string name,
                double created, std::uintptr_t grants, std::size_t grants_len) {
  card::Card c;
  if (!copy_exact(in(p256dh, p256dh_len), c.p256dh) || !copy_exact(in(auth, auth_len), c.auth)) {
    return fail(Status::bad_key);
  }
  if (!(created >= 0 && created <= UINT32_MAX)) return fail(Status::bad_argument);
  c.created = static_cast<std::uint32_t>(created);
  c.endpoint = std::move(endpoint);
  if (Status s = p256::public_key_from_private(in(priv, priv_len), c.identity); s != Status::ok) return fail(s);
  c.subject = std::move(subject);
  c.name = std::move(name);
  if (!grants_from_bytes(in(grants, grants_len), c.grants)) return fail(Status::bad_argument);
  Bytes out;
  Status s = card::encode(c, in(priv, priv_len), out);
  wipe(c.auth.data(), c.auth.size());
  return bytes_or_fail(s, out);
}

val card_to_js(const card::Card& c) {
  val o = val::object();
  put(o, "created", static_cast<double>(c.created));
  put(o, "endpoint", c.endpoint);
  put(o, "p256dh", copy_out(c.p256dh));
  put(o, "auth", copy_out(c.auth));
  put(o, "identity", copy_out(c.identity));
  put(o, "keyId", copy_out(card::key_id(c.identity)));
  put(o, "subject", c.subject);
  put(o, "name", c.name);
  put(o, "grants", grants_to_js(c.grants));
  return o;
}

val decode_card(std::uintptr_t p, std::size_t n) {
  card::Card c;
  Status s = card::decode(in(p, n), c);
  return s == Status::ok ? card_to_js(c) : fail(s);
}

val grant_authorization(std::uintptr_t card_bytes, std::size_t card_len, double now) {
  card::Card c;
  if (Status s = card::decode(in(card_bytes, card_len), c); s != Status::ok) return fail(s);
  std::size_t index = 0;
  if (Status s = grant::pick(c.grants, seconds(now), index); s != Status::ok) return fail(s);
  std::string header;
  Status s = grant::authorization(c.grants[index], c.endpoint, c.subject, c.identity, header);
  if (s != Status::ok) return fail(s);
  val o = val::object();
  put(o, "authorization", header);
  put(o, "exp", static_cast<double>(c.grants[index].exp));
  // The rest of a push to the card's owner, from the same verified card: senders decode it once.
  put(o, "endpoint", c.endpoint);
  put(o, "p256dh", copy_out(c.p256dh));
  put(o, "auth", copy_out(c.auth));
  put(o, "keyId", copy_out(card::key_id(c.identity)));
  return o;
}

val seal_envelope(std::uintptr_t priv, std::size_t priv_len, double type, std::uintptr_t recipient,
                  std::size_t recipient_len, std::uintptr_t session, std::size_t session_len, double sequence,
                  double timestamp, std::uintptr_t ref, std::size_t ref_len, std::uintptr_t body, std::size_t body_len,
                  std::uintptr_t card_bytes, std::size_t card_len) {
  envelope::Sealed e;
  if (!(type >= 1 && type <= 255 && sequence >= 0 && sequence <= UINT32_MAX && timestamp >= 0 &&
        timestamp <= UINT32_MAX) ||
      !copy_exact(in(recipient, recipient_len), e.recipient) || !copy_exact(in(session, session_len), e.session)) {
    return fail(Status::bad_argument);
  }
  if (ref_len != 0) {
    envelope::Ref r{};
    if (!copy_exact(in(ref, ref_len), r)) return fail(Status::bad_argument);
    e.ref = r;
  }
  if (body_len > envelope::kMaxBodyLength) return fail(Status::payload_too_large);
  e.type = static_cast<envelope::Type>(static_cast<std::uint8_t>(type));
  e.sequence = static_cast<std::uint32_t>(sequence);
  e.timestamp = static_cast<std::uint32_t>(timestamp);
  e.body = in(body, body_len);
  e.sender_card = in(card_bytes, card_len);
  Bytes out;
  Status s = envelope::seal(e, in(priv, priv_len), out);
  if (s == Status::ok && out.size() > webpush::kMaxPlaintextLength) return fail(Status::payload_too_large);
  return bytes_or_fail(s, out);
}

val envelope_sender(std::uintptr_t p, std::size_t n) {
  card::KeyId id;
  bool has_card = false;
  if (Status s = envelope::peek_sender(in(p, n), id, has_card); s != Status::ok) return fail(s);
  val o = val::object();
  put(o, "keyId", copy_out(id));
  put(o, "hasCard", has_card);
  return o;
}

val open_envelope(std::uintptr_t p, std::size_t n, double now, std::uintptr_t self, std::size_t self_len,
                  std::uintptr_t known, std::size_t known_len, bool use_guard, double max_age, double max_skew) {
  if (!(max_age >= 0 && max_skew >= 0)) return fail(Status::bad_argument);
  card::KeyId self_id;
  if (!copy_exact(in(self, self_len), self_id)) return fail(Status::bad_argument);
  p256::PublicKey key;
  const p256::PublicKey* known_key = nullptr;
  if (known_len != 0) {
    if (!copy_exact(in(known, known_len), key)) return fail(Status::bad_key);
    if (Status s = p256::validate_public_key(key); s != Status::ok) return fail(s);
    known_key = &key;
  }
  envelope::Opened o;
  Status s = envelope::open(in(p, n), seconds(now), self_id, known_key, use_guard ? &replay_guard() : nullptr, o,
                            static_cast<std::int64_t>(max_age), static_cast<std::int64_t>(max_skew));
  if (s != Status::ok) return fail(s);
  val out = val::object();
  put(out, "type", static_cast<int>(o.type));
  put(out, "sender", copy_out(o.sender));
  put(out, "senderKey", copy_out(o.sender_key));
  put(out, "recipient", copy_out(o.recipient));
  put(out, "card", o.has_card ? card_to_js(o.card) : val::null());
  put(out, "cardBytes", o.has_card ? copy_out(o.card_bytes) : val::null());
  put(out, "sessionId", copy_out(o.session));
  put(out, "sequence", static_cast<double>(o.sequence));
  put(out, "timestamp", static_cast<double>(o.timestamp));
  put(out, "ref", o.ref ? copy_out(*o.ref) : val::null());
  put(out, "body", copy_out(o.body));
  return out;
}

val envelope_reference(std::uintptr_t p, std::size_t n) { return copy_out(envelope::reference(in(p, n))); }

val envelope_topic(double type, std::uintptr_t recipient, std::size_t recipient_len, std::uintptr_t session,
                   std::size_t session_len) {
  card::KeyId r;
  envelope::SessionId sid;
  if (!(type >= 1 && type <= 255) || !copy_exact(in(recipient, recipient_len), r) ||
      !copy_exact(in(session, session_len), sid)) {
    return fail(Status::bad_argument);
  }
  return val(envelope::topic(static_cast<envelope::Type>(static_cast<std::uint8_t>(type)), r, sid));
}

val key_id_of(std::uintptr_t p, std::size_t n) {
  p256::PublicKey key;
  if (!copy_exact(in(p, n), key)) return fail(Status::bad_key);
  if (Status s = p256::validate_public_key(key); s != Status::ok) return fail(s);
  return copy_out(card::key_id(key));
}

// An envelope sealed for a neighbour to carry, and its opening (docs/PROTOCOL.md §4.1).
val seal_for_peer(std::uintptr_t envelope, std::size_t envelope_len, std::uintptr_t identity, std::size_t identity_len) {
  Bytes body;
  return bytes_or_fail(neighbour::seal(in(identity, identity_len), in(envelope, envelope_len), body), body);
}

val open_from_peer(std::uintptr_t body, std::size_t body_len, std::uintptr_t priv, std::size_t priv_len,
                   std::uintptr_t pub, std::size_t pub_len) {
  Bytes envelope;
  Status s = neighbour::open(in(priv, priv_len), in(pub, pub_len), in(body, body_len), envelope);
  val out = bytes_or_fail(s, envelope);
  wipe(envelope.data(), envelope.size());
  return out;
}

// Groups (docs/PROTOCOL.md §7.8): the secret arrives in a wiped buffer (js/core.js); the outputs leave as copies
// and are wiped here.
val group_id(std::uintptr_t secret, std::size_t secret_len) {
  Secret<group::kIdLength> id;
  return bytes_or_fail(group::id(in(secret, secret_len), id.data()), id);
}

val group_proof(std::uintptr_t secret, std::size_t secret_len, std::uintptr_t key_id, std::size_t key_id_len) {
  Secret<group::kProofLength> proof;
  return bytes_or_fail(group::proof(in(secret, secret_len), in(key_id, key_id_len), proof.data()), proof);
}

val check_group_proof(std::uintptr_t secret, std::size_t secret_len, std::uintptr_t key_id, std::size_t key_id_len,
                      std::uintptr_t proof, std::size_t proof_len) {
  bool valid = false;
  Status s = group::check_proof(in(secret, secret_len), in(key_id, key_id_len), in(proof, proof_len), valid);
  return s == Status::ok ? val(valid) : fail(s);
}

val save_replay_state() { return copy_out(replay_guard().save()); }

int restore_replay_state(std::uintptr_t p, std::size_t n) {
  return static_cast<int>(replay_guard().restore(in(p, n)));
}

}  // namespace

EMSCRIPTEN_BINDINGS(pushpeer_signaling) {
  using emscripten::function;
  function("packSdp", &pack_sdp);
  function("unpackSdp", &unpack_sdp);
  function("issueGrants", &issue_grants);
  function("createCard", &create_card);
  function("decodeCard", &decode_card);
  function("grantAuthorization", &grant_authorization);
  function("sealEnvelope", &seal_envelope);
  function("envelopeSender", &envelope_sender);
  function("openEnvelope", &open_envelope);
  function("envelopeReference", &envelope_reference);
  function("envelopeTopic", &envelope_topic);
  function("keyIdOf", &key_id_of);
  function("sealForPeer", &seal_for_peer);
  function("openFromPeer", &open_from_peer);
  function("groupId", &group_id);
  function("groupProof", &group_proof);
  function("checkGroupProof", &check_group_proof);
  function("saveReplayState", &save_replay_state);
  function("restoreReplayState", &restore_replay_state);
}

PUSHPEER_FOR_SIZE_END
