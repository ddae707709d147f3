// The event catalog covers the schema: every member of Event's union is described, with
// a kind of its own and every field of its group among the catalog's fields.
#include <capnp/dynamic.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "store/event_catalog.h"
#include "store/kind.h"
#include "store/linux_abi.h"

#ifdef __linux__
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#endif

namespace aa {
namespace {

// oldPath -> old_path: the JSON Lines spelling of a schema field.
std::string snake(std::string_view camel) {
  std::string out;
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      out += '_';
      out += char(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

TEST(EventCatalog, DescribesEveryUnionMemberWithAllItsFields) {
  const auto eventSchema = capnp::Schema::from<schema::Event>();
  std::set<Kind> kinds;
  size_t members = 0;
  for (auto member : eventSchema.getUnionFields()) {
    ++members;
    const std::string name = member.getProto().getName().cStr();
    capnp::MallocMessageBuilder msg;
    auto root = msg.initRoot<schema::Event>();
    capnp::DynamicStruct::Builder dyn = root;
    dyn.clear(member);   // selects the member
    std::set<std::string> schemaFields;
    auto group = dyn.get(member).as<capnp::DynamicStruct>();
    for (auto f : group.getSchema().getFields()) {
      // Fill byte strings, so fields present only when set (exec filename) show.
      if (f.getType().isData()) {
        static const kj::byte kX[] = {'x'};
        group.set(f, capnp::Data::Reader(kX, 1));
      }
      schemaFields.insert(snake(f.getProto().getName().cStr()));
    }
    const EventInfo info = describe(root.asReader());
    EXPECT_TRUE(info.known) << name << " is missing from the event catalog (store/event_catalog.cc)";
    EXPECT_FALSE(info.fields().empty()) << name;
    kinds.insert(info.kind);
    std::set<std::string> catalogFields;
    for (const Field& f : info.fields()) {
      catalogFields.insert(std::string(f.name));
      if (kKindsWithoutFiles & bit(info.kind)) {
        EXPECT_FALSE(touchesFile(f.role)) << name << "." << f.name << ": kKindsWithoutFiles is wrong";
      }
    }
    for (const std::string& f : schemaFields) {
      // TLS: the direction and `plain` are the kind (tls.write / tls.read, net.send /
      // net.recv); `length` is printed as `len`.
      if (name == "tls" && (f == "direction" || f == "plain" || f == "length")) continue;
      EXPECT_TRUE(catalogFields.count(f)) << name << "." << f << " is not in the catalog";
    }
  }
  // One kind per member (TLS is four, by direction and plain: the test's events are
  // TLS writes).
  EXPECT_EQ(kinds.size(), members);
  EXPECT_EQ(members + 3, size_t(kKindCount));
}

// The tls member is four kinds: the direction, and whether the bytes came from a TLS
// library or from a plain socket's own calls (no library then).
TEST(EventCatalog, StreamBytesAreTlsOrPlainByDirection) {
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<schema::Event>();
  auto t = e.initTls();
  const std::pair<bool, schema::TlsDirection> cases[] = {{false, schema::TlsDirection::WRITE},
                                                         {false, schema::TlsDirection::READ},
                                                         {true, schema::TlsDirection::WRITE},
                                                         {true, schema::TlsDirection::READ}};
  const Kind want[] = {Kind::kTlsWrite, Kind::kTlsRead, Kind::kNetSend, Kind::kNetRecv};
  for (size_t i = 0; i < 4; ++i) {
    t.setPlain(cases[i].first);
    t.setDirection(cases[i].second);
    const EventInfo info = describe(e.asReader());
    EXPECT_EQ(info.kind, want[i]) << i;
    EXPECT_EQ(info.find("lib") != nullptr, !cases[i].first) << kindName(info.kind);
    EXPECT_TRUE(kStreamKinds & bit(info.kind));
    EXPECT_EQ(areaOf(e.asReader()), cases[i].second == schema::TlsDirection::WRITE ? KindArea::kSent
                                                                                  : KindArea::kReceived);
  }
}

TEST(EventCatalog, KindNamesRoundTrip) {
  for (int k = 0; k < kKindCount; ++k) {
    const auto kind = static_cast<Kind>(k);
    EXPECT_NE(kindName(kind), "unknown");
    EXPECT_EQ(parseKind(kindName(kind)), kind);
  }
}

// Every kind has its facts (store/kind.cc): a name, an area in a category, and the
// event-level area of a default event of its member equals the kind's area.
// What an agent does (`aa-session llm --then N`) agrees with what the kinds are about: every
// program run, connection and change of a file's contents, name or mode is one; reads,
// process bookkeeping, TLS and losses are not.
TEST(EventCatalog, ActionsAreWhatTheAreasSay) {
  for (int k = 0; k < kKindCount; ++k) {
    const auto kind = static_cast<Kind>(k);
    const KindArea a = kindArea(kind);
    const bool action = actionKinds() & bit(kind);
    if (a == KindArea::kExec || a == KindArea::kNet || a == KindArea::kFileWrite) {
      EXPECT_TRUE(action || kind == Kind::kFileWrite) << kindName(kind);  // per call: the close sums it
    }
    if (a == KindArea::kProcess || a == KindArea::kSent || a == KindArea::kReceived || a == KindArea::kLost) {
      EXPECT_FALSE(action) << kindName(kind);
    }
    if (a == KindArea::kFileRead) {
      EXPECT_EQ(action, kind == Kind::kFileClose) << kindName(kind);
    }
    if (a == KindArea::kFileMeta) {
      EXPECT_EQ(action, kind != Kind::kChdir) << kindName(kind);
    }
  }
}

TEST(EventCatalog, EveryKindHasItsArea) {
  const std::set<std::string_view> categories = {"process", "file", "net", "stream", "lost"};
  for (int k = 0; k < kKindCount; ++k) {
    const auto kind = static_cast<Kind>(k);
    EXPECT_TRUE(categories.count(areaCategory(kindArea(kind)))) << kindName(kind);
    EXPECT_EQ(kindArea(kind) == KindArea::kLost, kind == Kind::kLost)
        << kindName(kind) << ": only lost is in the lost area";
  }
  const auto eventSchema = capnp::Schema::from<schema::Event>();
  for (auto member : eventSchema.getUnionFields()) {
    capnp::MallocMessageBuilder msg;
    auto root = msg.initRoot<schema::Event>();
    capnp::DynamicStruct::Builder dyn = root;
    dyn.clear(member);
    const Kind kind = kindOf(root.asReader());
    EXPECT_EQ(areaOf(root.asReader()), kindArea(kind)) << kindName(kind);
  }
  // The event decides for opens and closes, and the kind table says so.
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<schema::Event>();
  e.initFileOpen().setFlags(linux_abi::kO_WRONLY);
  EXPECT_EQ(areaOf(e.asReader()), KindArea::kFileWrite);
  e.initFileOpen().setFlags(linux_abi::kO_RDONLY | linux_abi::kO_TRUNC);
  EXPECT_EQ(areaOf(e.asReader()), KindArea::kFileWrite);
  e.initFileClose().setBytesWritten(1);
  EXPECT_EQ(areaOf(e.asReader()), KindArea::kFileWrite);
  e.initFileClose().setBytesRead(1);
  EXPECT_EQ(areaOf(e.asReader()), KindArea::kFileRead);
  for (int k = 0; k < kKindCount; ++k) {
    const auto kind = static_cast<Kind>(k);
    EXPECT_EQ(kindMayWrite(kind), kind == Kind::kFileOpen || kind == Kind::kFileClose)
        << kindName(kind);
  }
}

TEST(EventCatalog, RolesFdResultAndBytes) {
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<schema::Event>();
  auto bytes = [](const char* s) {
    return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s), strlen(s));
  };
  auto r = e.initFileRename();
  r.setOldPath(bytes("/a"));
  r.setNewPath(bytes("/b"));
  r.setRet(-2);
  EventInfo info = describe(e.asReader());
  EXPECT_EQ(info.kind, Kind::kFileRename);
  EXPECT_EQ(info.path(PathRole::kOldPath), "/a");
  EXPECT_EQ(info.path(PathRole::kNewPath), "/b");
  EXPECT_EQ(info.mainPath(), "/b");
  EXPECT_EQ(info.ret, -2);
  EXPECT_FALSE(info.fd);
  // JSON order: path (= new_path), old_path, new_path, flags, ret.
  std::string order;
  for (const Field& f : info.fields()) order += std::string(f.name) + (f.alias ? "* " : " ");
  EXPECT_EQ(order, "path* old_path new_path flags ret ");

  auto o = e.initFileOpen();
  o.setPath(bytes("/etc/hosts"));
  o.setRet(-13);
  info = describe(e.asReader());
  EXPECT_EQ(info.fd, -1);   // a failed open has no fd
  EXPECT_EQ(info.ret, -13);

  auto c = e.initFileClose();
  c.setBytesRead(10);
  c.setBytesWritten(5);
  EXPECT_EQ(describe(e.asReader()).bytes, 15u);
}

// The names are Linux's whatever the host: these values differ on macOS (O_CREAT 0x200,
// EAGAIN 35, SIGUSR1 30, AF_INET6 30).
TEST(LinuxAbi, NamesRecordedLinuxNumbers) {
  using namespace linux_abi;
  EXPECT_EQ(openFlagsName(0), "O_RDONLY");
  EXPECT_EQ(openFlagsName(01101), "O_WRONLY|O_CREAT|O_TRUNC");
  EXPECT_EQ(openFlagsName(02000000 | 0200000), "O_RDONLY|O_DIRECTORY|O_CLOEXEC");
  EXPECT_EQ(openFlagsName(020200002), "O_RDWR|O_TMPFILE");
  EXPECT_EQ(openFlagsName(04010001), "O_WRONLY|O_SYNC");
  EXPECT_EQ(openFlagsName(0x40000000), "O_RDONLY|0x40000000");
  EXPECT_EQ(errnoName(11), "EAGAIN");
  EXPECT_EQ(errnoName(35), "EDEADLK");
  EXPECT_EQ(errnoName(115), "EINPROGRESS");
  EXPECT_EQ(errnoName(111), "ECONNREFUSED");
  EXPECT_EQ(errnoName(41), "");
  EXPECT_EQ(errnoName(-1), "");
  EXPECT_EQ(errnoName(100000), "");
  EXPECT_EQ(signalName(10), "SIGUSR1");
  EXPECT_EQ(signalName(17), "SIGCHLD");
  EXPECT_EQ(signalName(9), "SIGKILL");
  EXPECT_EQ(signalName(0), "");
  EXPECT_EQ(signalName(64), "");
  EXPECT_EQ(familyName(10), "AF_INET6");
  EXPECT_EQ(familyName(30), "");
}

#ifdef __linux__
// On Linux the table must agree with the C library's headers.
TEST(LinuxAbi, AgreesWithThisLinuxHost) {
  using namespace linux_abi;
  EXPECT_EQ(openFlagsName(O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC),
            "O_WRONLY|O_CREAT|O_EXCL|O_APPEND|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC");
  EXPECT_EQ(kO_CREAT, uint32_t(O_CREAT));
  EXPECT_EQ(kO_TRUNC, uint32_t(O_TRUNC));
  EXPECT_EQ(kO_DIRECTORY, uint32_t(O_DIRECTORY));
  EXPECT_EQ(errnoName(ENOENT), "ENOENT");
  EXPECT_EQ(errnoName(ENOTEMPTY), "ENOTEMPTY");
  EXPECT_EQ(errnoName(ETIMEDOUT), "ETIMEDOUT");
  EXPECT_EQ(errnoName(EHOSTUNREACH), "EHOSTUNREACH");
  EXPECT_EQ(kEINPROGRESS, EINPROGRESS);
  EXPECT_EQ(signalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(signalName(SIGSYS), "SIGSYS");
  EXPECT_EQ(kAF_INET6, AF_INET6);
  EXPECT_EQ(kAF_UNIX, AF_UNIX);
}
#endif

}  // namespace
}  // namespace aa
