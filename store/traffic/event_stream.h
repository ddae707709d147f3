// The AWS event stream encoding (application/vnd.amazon.eventstream), which Amazon
// Bedrock's InvokeModelWithResponseStream answers in: binary messages, each
//   total length (u32 BE) | headers length (u32 BE) | prelude CRC32 |
//   headers (name len u8, name, value type u8, value) | payload | message CRC32.
// For Anthropic models each "chunk" event's payload is {"bytes": BASE64} holding one
// Messages API stream event; errors are messages with :message-type "exception".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aa::traffic {

struct AwsEvent {
  std::vector<std::pair<std::string, std::string>> headers;   // string-valued headers
  std::string payload;
  uint64_t endPos = 0;    // body offset after the message
  bool complete = true;   // false: the body ended inside the message
  std::string header(std::string_view name) const;
};

// Splits a whole (or cut) body. Stops at the first message whose length or CRCs are
// wrong, setting `problem` ("event stream message at offset N: prelude CRC mismatch").
// A cut last message is returned with complete = false and an empty payload.
std::vector<AwsEvent> splitAwsEventStream(std::string_view body, std::string* problem = nullptr);

// Standard base64 (RFC 4648, padding optional). False on a character outside it.
bool decodeBase64(std::string_view in, std::string& out);

}  // namespace aa::traffic
