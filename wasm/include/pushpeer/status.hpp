// Status codes of the pushpeer core. Every core function returns one; the JS glue maps the name returned by
// status_name() to PushPeerError.code, so names are part of the public contract: never rename one.
#pragma once

namespace pushpeer {

enum class Status : int {
  ok = 0,
  bad_argument = -1,        // a length, size or option outside what the function accepts
  bad_base64 = -2,          // not strict unpadded base64url
  bad_key = -3,             // a public key not on P-256, a private key outside [1, n-1], a wrong key length
  decrypt_failed = -4,      // AES-GCM tag mismatch: wrong keys or tampered ciphertext
  ece_truncated_header = -5,   // aes128gcm body shorter than its header
  ece_bad_record_size = -6,    // rs < 18, or too small for the content it must carry
  ece_bad_key_id = -7,         // key id of the wrong length for Web Push (must be a 65-byte P-256 key)
  ece_truncated_record = -8,   // a record too short to hold a tag and a delimiter
  ece_bad_padding = -9,        // a record with no delimiter (all zero after decryption)
  ece_bad_delimiter = -10,     // delimiter 2 before the last record
  ece_truncated_message = -11, // last record carries delimiter 1: records are missing
  bad_jwt = -12,               // malformed JWT or JWT claims
  bad_signature = -13,         // signature does not verify
  bad_expiration = -14,        // exp in the past or more than 24 h ahead (RFC 8292 §2)
  bad_subject = -15,           // VAPID sub not mailto: or https:
  bad_endpoint = -16,          // not an https URL (http allowed for loopback hosts only)
  bad_subscription = -17,      // PushSubscription JSON malformed or missing endpoint/keys
  payload_too_large = -18,     // the request body would exceed 4096 bytes
  bad_ttl = -19,
  bad_urgency = -20,
  bad_topic = -21,
  internal = -22,
  bad_sdp = -23,               // SDP text to pack is empty, too large or not text
  bad_packed_sdp = -24,        // packed SDP is truncated, malformed or inflates beyond the limit
  unsupported_version = -25,   // a compact format version (or dictionary) this build does not know
  bad_card = -26,              // contact card truncated or malformed
  bad_envelope = -27,          // envelope truncated or malformed
  unknown_sender = -28,        // envelope names its sender by key id and that key is not known
  stale_message = -29,         // envelope timestamp outside the accepted window
  replayed_message = -30,      // envelope (sender, session, sequence) already seen
  no_usable_grant = -31,       // every grant is expired or not yet usable
  wrong_recipient = -32,       // envelope addressed to another key
  replay_guard_full = -33,     // too many fresh envelopes to remember: refused until older ones expire
  bad_text = -34,              // text that is not strict UTF-8, or holds control / bidi-override characters
  bad_manifest = -35,          // a share manifest truncated, malformed, badly signed, or not the one asked for
  bad_proof = -36,             // a merkle proof or range of the wrong length for what it claims to prove
  chunk_mismatch = -37,        // content bytes and their proof do not lead to the root
  bad_frame = -38,             // a content-channel frame truncated, malformed or of an unknown type
};

// Stable upper-case name, e.g. "BAD_BASE64".
const char* status_name(Status s);

// Short English description for error messages.
const char* status_message(Status s);

// Whether s is one of the codes above (not another number cast to Status); all lie in [kLowestStatus, 0].
bool status_known(Status s);
inline constexpr int kLowestStatus = -256;

}  // namespace pushpeer
