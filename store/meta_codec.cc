#include "store/meta_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include "schema/session.capnp.h"

namespace aa {
namespace {

capnp::Data::Reader data(const std::string& s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}
std::string str(capnp::Data::Reader d) { return {reinterpret_cast<const char*>(d.begin()), d.size()}; }
std::string str(capnp::Text::Reader t) { return {t.begin(), t.size()}; }

void encodeProbes(const std::vector<ProbeStatusInfo>& from,
                  capnp::List<schema::ProbeStatus>::Builder to) {
  for (size_t i = 0; i < from.size(); ++i) {
    to[i].setName(from[i].name);
    to[i].setMode(from[i].mode);
    to[i].setOk(from[i].ok);
    to[i].setError(from[i].error);
  }
}

std::vector<ProbeStatusInfo> decodeProbes(capnp::List<schema::ProbeStatus>::Reader from) {
  std::vector<ProbeStatusInfo> out;
  for (auto p : from) out.push_back({str(p.getName()), str(p.getMode()), p.getOk(), str(p.getError())});
  return out;
}

}  // namespace

void fillHeader(const SessionHeaderInfo& h, schema::SessionHeader::Builder b, bool withProbes) {
  b.setFormatVersion(h.formatVersion);
  b.setSessionId(h.sessionId);
  b.setHost(h.host);
  b.setKernel(h.kernel);
  auto cmd = b.initCommand(h.command.size());
  for (size_t i = 0; i < h.command.size(); ++i) cmd.set(i, data(h.command[i]));
  b.setStartWallNs(h.startWallNs);
  b.setStartMonoNs(h.startMonoNs);
  b.setClockOffsetNs(h.clockOffsetNs);
  b.setRecorderVersion(h.recorderVersion);
  if (withProbes) encodeProbes(h.probes, b.initProbes(h.probes.size()));
  b.setRedaction(h.redaction);
  b.setTarget(h.target);
  auto opts = b.initOptions(h.options.size());
  for (size_t i = 0; i < h.options.size(); ++i) opts.set(i, h.options[i]);
  auto rules = b.initRedactRules(h.redactRules.size());
  for (size_t i = 0; i < h.redactRules.size(); ++i) rules.set(i, h.redactRules[i]);
}

kj::Array<capnp::word> encodeHeader(const SessionHeaderInfo& h) {
  capnp::MallocMessageBuilder msg;
  fillHeader(h, msg.initRoot<schema::SessionHeader>(), true);
  return capnp::messageToFlatArray(msg);
}

SessionHeaderInfo readHeaderFields(schema::SessionHeader::Reader r) {
  SessionHeaderInfo h;
  h.formatVersion = r.getFormatVersion();
  h.sessionId = str(r.getSessionId());
  h.host = str(r.getHost());
  h.kernel = str(r.getKernel());
  for (auto c : r.getCommand()) h.command.push_back(str(c));
  h.startWallNs = r.getStartWallNs();
  h.startMonoNs = r.getStartMonoNs();
  h.clockOffsetNs = r.getClockOffsetNs();
  h.recorderVersion = str(r.getRecorderVersion());
  h.probes = decodeProbes(r.getProbes());
  h.redaction = r.getRedaction();
  h.target = str(r.getTarget());
  for (auto o : r.getOptions()) h.options.push_back(str(o));
  for (auto o : r.getRedactRules()) h.redactRules.push_back(str(o));
  return h;
}

kj::Array<capnp::word> encodeFooter(const SessionFooterInfo& f) {
  capnp::MallocMessageBuilder msg;
  auto b = msg.initRoot<schema::SessionFooter>();
  b.setEventCount(f.eventCount);
  b.setBatchCount(f.batchCount);
  b.setEndMonoNs(f.endMonoNs);
  b.setEndWallNs(f.endWallNs);
  b.setCleanStop(f.cleanStop);
  b.setExitCode(f.exitCode);
  b.setRunningAtStop(f.runningAtStop);
  encodeProbes(f.probes, b.initProbes(f.probes.size()));
  auto lost = b.initLost(f.lost.size());
  for (size_t i = 0; i < f.lost.size(); ++i) {
    lost[i].setProbe(f.lost[i].probe);
    lost[i].setCount(f.lost[i].count);
  }
  return capnp::messageToFlatArray(msg);
}

StatusOr<SessionHeaderInfo> decodeHeader(kj::ArrayPtr<const capnp::word> words) {
  SessionHeaderInfo h;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&] {
    capnp::FlatArrayMessageReader msg(words);
    h = readHeaderFields(msg.getRoot<schema::SessionHeader>());
  })) {
    return Status::error("undecodable session header: " + std::string(e->getDescription().cStr()));
  }
  return h;
}

StatusOr<SessionFooterInfo> decodeFooter(kj::ArrayPtr<const capnp::word> words) {
  SessionFooterInfo f;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&] {
    capnp::FlatArrayMessageReader msg(words);
    auto r = msg.getRoot<schema::SessionFooter>();
    f.eventCount = r.getEventCount();
    f.batchCount = r.getBatchCount();
    f.endMonoNs = r.getEndMonoNs();
    f.endWallNs = r.getEndWallNs();
    f.cleanStop = r.getCleanStop();
    f.exitCode = r.getExitCode();
    f.runningAtStop = r.getRunningAtStop();
    for (auto l : r.getLost()) f.lost.push_back({str(l.getProbe()), l.getCount()});
    f.probes = decodeProbes(r.getProbes());
  })) {
    return Status::error("undecodable session footer: " + std::string(e->getDescription().cStr()));
  }
  return f;
}

}  // namespace aa
