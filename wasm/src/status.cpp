#include "pushpeer/status.hpp"
#include "pushpeer/for_size.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer {

namespace {
struct Entry {
  const char* name;
  const char* message;
  bool known = true;
};

// A switch with no default: -Wswitch (an error in this build, CMakeLists.txt) names any Status left out.
Entry entry(Status s) {
  switch (s) {
    case Status::ok:
      return {"OK", "success"};
    case Status::bad_argument:
      return {"BAD_ARGUMENT", "an argument is out of range or has the wrong length"};
    case Status::bad_base64:
      return {"BAD_BASE64", "not valid unpadded base64url"};
    case Status::bad_key:
      return {"BAD_KEY", "invalid P-256 key"};
    case Status::decrypt_failed:
      return {"DECRYPT_FAILED", "decryption failed: wrong keys or tampered message"};
    case Status::ece_truncated_header:
      return {"ECE_TRUNCATED_HEADER", "aes128gcm body shorter than its header"};
    case Status::ece_bad_record_size:
      return {"ECE_BAD_RECORD_SIZE", "aes128gcm record size is invalid or too small"};
    case Status::ece_bad_key_id:
      return {"ECE_BAD_KEY_ID", "aes128gcm key id is not a 65-byte P-256 public key"};
    case Status::ece_truncated_record:
      return {"ECE_TRUNCATED_RECORD", "aes128gcm record too short for a tag and delimiter"};
    case Status::ece_bad_padding:
      return {"ECE_BAD_PADDING", "aes128gcm record has no valid padding delimiter"};
    case Status::ece_bad_delimiter:
      return {"ECE_BAD_DELIMITER", "aes128gcm last-record delimiter found before the end"};
    case Status::ece_truncated_message:
      return {"ECE_TRUNCATED_MESSAGE", "aes128gcm message is truncated (no last record)"};
    case Status::bad_jwt:
      return {"BAD_JWT", "malformed JWT"};
    case Status::bad_signature:
      return {"BAD_SIGNATURE", "signature does not verify"};
    case Status::bad_expiration:
      return {"BAD_EXPIRATION", "expiration must be in the future and at most 24 hours ahead"};
    case Status::bad_subject:
      return {"BAD_SUBJECT", "VAPID subject must be a mailto: or https: URL"};
    case Status::bad_endpoint:
      return {"BAD_ENDPOINT", "push endpoint must be an https URL (http only for loopback hosts)"};
    case Status::bad_subscription:
      return {"BAD_SUBSCRIPTION", "push subscription JSON is malformed or incomplete"};
    case Status::payload_too_large:
      return {"PAYLOAD_TOO_LARGE", "payload does not fit one push message (3993 bytes)"};
    case Status::bad_ttl:
      return {"BAD_TTL", "TTL must be an integer number of seconds up to 28 days"};
    case Status::bad_urgency:
      return {"BAD_URGENCY", "urgency must be very-low, low, normal or high"};
    case Status::bad_topic:
      return {"BAD_TOPIC", "topic must be 1 to 32 base64url characters"};
    case Status::bad_sdp:
      return {"BAD_SDP", "SDP must be non-empty text of at most 64 KiB"};
    case Status::bad_packed_sdp:
      return {"BAD_PACKED_SDP", "packed SDP is truncated or malformed"};
    case Status::unsupported_version:
      return {"UNSUPPORTED_VERSION", "format version not supported by this build"};
    case Status::bad_card:
      return {"BAD_CARD", "contact card is truncated or malformed"};
    case Status::bad_envelope:
      return {"BAD_ENVELOPE", "envelope is truncated or malformed"};
    case Status::unknown_sender:
      return {"UNKNOWN_SENDER", "envelope sender is not a known peer"};
    case Status::stale_message:
      return {"STALE_MESSAGE", "envelope timestamp is outside the accepted window"};
    case Status::replayed_message:
      return {"REPLAYED_MESSAGE", "envelope was already received"};
    case Status::no_usable_grant:
      return {"NO_USABLE_GRANT", "no grant is usable now (expired or not yet valid)"};
    case Status::wrong_recipient:
      return {"WRONG_RECIPIENT", "envelope is addressed to another peer"};
    case Status::replay_guard_full:
      return {"REPLAY_GUARD_FULL", "too many recent messages to remember; refused until older ones expire"};
    case Status::bad_text:
      return {"BAD_TEXT", "text must be strict UTF-8 without control or bidi-override characters"};
    case Status::bad_manifest:
      return {"BAD_MANIFEST", "share manifest is malformed, badly signed, or not the one asked for"};
    case Status::bad_proof:
      return {"BAD_PROOF", "merkle proof or range has the wrong length for what it proves"};
    case Status::chunk_mismatch:
      return {"CHUNK_MISMATCH", "content does not match its root"};
    case Status::bad_frame:
      return {"BAD_FRAME", "content frame is truncated, malformed or of an unknown type"};
    case Status::internal:
      return {"INTERNAL", "internal error"};
  }
  return {"INTERNAL", "internal error", false};  // a value outside the enum (a cast from an unknown number)
}
}  // namespace

const char* status_name(Status s) { return entry(s).name; }
const char* status_message(Status s) { return entry(s).message; }
bool status_known(Status s) { return entry(s).known; }

}  // namespace pushpeer

PUSHPEER_FOR_SIZE_END
