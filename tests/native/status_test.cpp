// Status names are part of the public contract (the JS glue maps them to PushPeerError.code): pin every one.
#include <cstring>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "pushpeer/status.hpp"
#include "vectors.hpp"

namespace pushpeer {
namespace {

struct NamedStatus {
  Status status;
  const char* name;
};

constexpr NamedStatus kStatuses[] = {
    {Status::ok, "OK"},
    {Status::bad_argument, "BAD_ARGUMENT"},
    {Status::bad_base64, "BAD_BASE64"},
    {Status::bad_key, "BAD_KEY"},
    {Status::decrypt_failed, "DECRYPT_FAILED"},
    {Status::ece_truncated_header, "ECE_TRUNCATED_HEADER"},
    {Status::ece_bad_record_size, "ECE_BAD_RECORD_SIZE"},
    {Status::ece_bad_key_id, "ECE_BAD_KEY_ID"},
    {Status::ece_truncated_record, "ECE_TRUNCATED_RECORD"},
    {Status::ece_bad_padding, "ECE_BAD_PADDING"},
    {Status::ece_bad_delimiter, "ECE_BAD_DELIMITER"},
    {Status::ece_truncated_message, "ECE_TRUNCATED_MESSAGE"},
    {Status::bad_jwt, "BAD_JWT"},
    {Status::bad_signature, "BAD_SIGNATURE"},
    {Status::bad_expiration, "BAD_EXPIRATION"},
    {Status::bad_subject, "BAD_SUBJECT"},
    {Status::bad_endpoint, "BAD_ENDPOINT"},
    {Status::bad_subscription, "BAD_SUBSCRIPTION"},
    {Status::payload_too_large, "PAYLOAD_TOO_LARGE"},
    {Status::bad_ttl, "BAD_TTL"},
    {Status::bad_urgency, "BAD_URGENCY"},
    {Status::bad_topic, "BAD_TOPIC"},
    {Status::internal, "INTERNAL"},
    {Status::bad_sdp, "BAD_SDP"},
    {Status::bad_packed_sdp, "BAD_PACKED_SDP"},
    {Status::unsupported_version, "UNSUPPORTED_VERSION"},
    {Status::bad_card, "BAD_CARD"},
    {Status::bad_envelope, "BAD_ENVELOPE"},
    {Status::unknown_sender, "UNKNOWN_SENDER"},
    {Status::stale_message, "STALE_MESSAGE"},
    {Status::replayed_message, "REPLAYED_MESSAGE"},
    {Status::no_usable_grant, "NO_USABLE_GRANT"},
    {Status::wrong_recipient, "WRONG_RECIPIENT"},
    {Status::replay_guard_full, "REPLAY_GUARD_FULL"},
    {Status::bad_text, "BAD_TEXT"},
    {Status::bad_manifest, "BAD_MANIFEST"},
    {Status::bad_proof, "BAD_PROOF"},
    {Status::chunk_mismatch, "CHUNK_MISMATCH"},
    {Status::bad_frame, "BAD_FRAME"},
};

TEST(Status, NamesAreTheUpperCaseEnumerators) {
  for (const auto& [status, name] : kStatuses) {
    const char* got = status_name(status);
    ASSERT_NE(got, nullptr) << name;
    EXPECT_STREQ(got, name) << "value " << static_cast<int>(status);
  }
}

TEST(Status, ValuesAreStable) {
  // The numeric codes cross the Wasm boundary too.
  int expected = 0;
  for (const auto& [status, name] : kStatuses) {
    EXPECT_EQ(static_cast<int>(status), expected) << name;
    --expected;
  }
}

TEST(Status, EveryStatusHasADistinctMessage) {
  std::set<std::string> messages;
  for (const auto& [status, name] : kStatuses) {
    const char* message = status_message(status);
    ASSERT_NE(message, nullptr) << name;
    EXPECT_GT(std::strlen(message), 0u) << name;
    messages.insert(message);
  }
  EXPECT_EQ(messages.size(), std::size(kStatuses));
}

TEST(Status, EveryNamedValueIsPinnedHere) {
  // status_name() is a switch over the enum (-Werror=switch); any value it knows that this table lacks is a new
  // code nobody pinned. Values outside the enum are not known (and named INTERNAL).
  for (int value = 1; value >= kLowestStatus; --value) {
    const Status status = static_cast<Status>(value);
    if (!status_known(status)) continue;
    bool pinned = false;
    for (const auto& entry : kStatuses) pinned = pinned || entry.status == status;
    EXPECT_TRUE(pinned) << "status " << value << " (" << status_name(status) << ") is not in kStatuses";
  }
  for (const auto& entry : kStatuses) EXPECT_GE(static_cast<int>(entry.status), kLowestStatus) << entry.name;
}

TEST(Status, UnknownValueStillHasAName) {
  // A value outside the enum (a corrupted code from the boundary) must not crash the name lookup.
  const Status unknown = static_cast<Status>(-1000);
  EXPECT_FALSE(status_known(unknown));
  EXPECT_TRUE(status_known(Status::internal));
  EXPECT_STREQ(status_name(unknown), "INTERNAL");
  EXPECT_NE(status_name(unknown), nullptr);
  EXPECT_NE(status_message(unknown), nullptr);
}

}  // namespace
}  // namespace pushpeer
