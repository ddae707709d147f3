// Caches that reading libraries derive from a session (store/traffic's HTTP exchanges and
// LLM calls), kept in the session's index file so that the next reader need not derive
// them again. The store owns the table, the files and the key: a cache is valid only for
// the log it was derived from (session id, events, file size) and for the deriver's
// version; anything else is a miss. Values are opaque bytes to the store (a Cap'n Proto
// message of the deriver's schema, e.g. schema/traffic_cache.capnp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/session_reader.h"
#include "store/status.h"

namespace aa {

// The cached value of `name` at `version`, or nullopt (none, stale, unreadable).
std::optional<std::string> loadDerivedCache(const SessionReader& reader, std::string_view name,
                                            uint32_t version);

// Stores `value` for `name` at `version`, replacing what was there. Only beside an index
// the reader keeps on disk, writable, of a session that ended cleanly (one without a
// footer may still be growing, its writer holding the index): otherwise an error says
// why nothing was written. A failure never affects the session or its index tables.
Status storeDerivedCache(const SessionReader& reader, std::string_view name, uint32_t version,
                         std::string_view value);

}  // namespace aa
