#include "pushpeer/status.hpp"

namespace pushpeer {

namespace {
struct Entry {
  Status status;
  const char* name;
  const char* message;
};

constexpr Entry kEntries[] = {
    {Status::ok, "OK", "success"},
    {Status::bad_argument, "BAD_ARGUMENT", "an argument is out of range or has the wrong length"},
    {Status::bad_base64, "BAD_BASE64", "not valid unpadded base64url"},
    {Status::bad_key, "BAD_KEY", "invalid P-256 key"},
    {Status::decrypt_failed, "DECRYPT_FAILED", "decryption failed: wrong keys or tampered message"},
    {Status::ece_truncated_header, "ECE_TRUNCATED_HEADER", "aes128gcm body shorter than its header"},
    {Status::ece_bad_record_size, "ECE_BAD_RECORD_SIZE", "aes128gcm record size is invalid or too small"},
    {Status::ece_bad_key_id, "ECE_BAD_KEY_ID", "aes128gcm key id is not a 65-byte P-256 public key"},
    {Status::ece_truncated_record, "ECE_TRUNCATED_RECORD", "aes128gcm record too short for a tag and delimiter"},
    {Status::ece_bad_padding, "ECE_BAD_PADDING", "aes128gcm record has no valid padding delimiter"},
    {Status::ece_bad_delimiter, "ECE_BAD_DELIMITER", "aes128gcm last-record delimiter found before the end"},
    {Status::ece_truncated_message, "ECE_TRUNCATED_MESSAGE", "aes128gcm message is truncated (no last record)"},
    {Status::bad_jwt, "BAD_JWT", "malformed JWT"},
    {Status::bad_signature, "BAD_SIGNATURE", "signature does not verify"},
    {Status::bad_expiration, "BAD_EXPIRATION", "expiration must be in the future and at most 24 hours ahead"},
    {Status::bad_subject, "BAD_SUBJECT", "VAPID subject must be a mailto: or https: URL"},
    {Status::bad_endpoint, "BAD_ENDPOINT", "push endpoint must be an https URL (http only for loopback hosts)"},
    {Status::bad_subscription, "BAD_SUBSCRIPTION", "push subscription JSON is malformed or incomplete"},
    {Status::payload_too_large, "PAYLOAD_TOO_LARGE", "payload does not fit one push message (3993 bytes)"},
    {Status::bad_ttl, "BAD_TTL", "TTL must be an integer number of seconds up to 28 days"},
    {Status::bad_urgency, "BAD_URGENCY", "urgency must be very-low, low, normal or high"},
    {Status::bad_topic, "BAD_TOPIC", "topic must be 1 to 32 base64url characters"},
    {Status::bad_sdp, "BAD_SDP", "SDP must be non-empty text of at most 64 KiB"},
    {Status::bad_packed_sdp, "BAD_PACKED_SDP", "packed SDP is truncated or malformed"},
    {Status::unsupported_version, "UNSUPPORTED_VERSION", "format version not supported by this build"},
    {Status::bad_card, "BAD_CARD", "contact card is truncated or malformed"},
    {Status::bad_envelope, "BAD_ENVELOPE", "envelope is truncated or malformed"},
    {Status::unknown_sender, "UNKNOWN_SENDER", "envelope sender is not a known peer"},
    {Status::stale_message, "STALE_MESSAGE", "envelope timestamp is outside the accepted window"},
    {Status::replayed_message, "REPLAYED_MESSAGE", "envelope was already received"},
    {Status::no_usable_grant, "NO_USABLE_GRANT", "no grant is usable now (expired or not yet valid)"},
    {Status::internal, "INTERNAL", "internal error"},
};

const Entry& entry(Status s) {
  for (const Entry& e : kEntries) {
    if (e.status == s) return e;
  }
  return kEntries[sizeof kEntries / sizeof kEntries[0] - 1];
}
}  // namespace

const char* status_name(Status s) { return entry(s).name; }
const char* status_message(Status s) { return entry(s).message; }

}  // namespace pushpeer
