// Conversions between the session header/footer values and their Cap'n Proto form.
#pragma once

#include <kj/array.h>
#include <capnp/common.h>

#include "schema/session.capnp.h"
#include "store/session_meta.h"
#include "store/status.h"

namespace aa {

kj::Array<capnp::word> encodeHeader(const SessionHeaderInfo& h);
// Fills a SessionHeader in place (the copy kept in the first frame omits the probes).
void fillHeader(const SessionHeaderInfo& h, schema::SessionHeader::Builder b, bool withProbes);
// Reads a SessionHeader; damaged data throws kj::Exception (callers catch).
SessionHeaderInfo readHeaderFields(schema::SessionHeader::Reader r);
kj::Array<capnp::word> encodeFooter(const SessionFooterInfo& f);
// `words` must stay valid only during the call. Errors describe the damage.
StatusOr<SessionHeaderInfo> decodeHeader(kj::ArrayPtr<const capnp::word> words);
StatusOr<SessionFooterInfo> decodeFooter(kj::ArrayPtr<const capnp::word> words);

}  // namespace aa
