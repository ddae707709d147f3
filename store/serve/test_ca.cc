#include "store/serve/test_ca.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace aa::serve {
namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct FileClose { void operator()(FILE* f) const { if (f) std::fclose(f); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using File = std::unique_ptr<FILE, FileClose>;

std::string sslError() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Pkey newKey() { return Pkey(EVP_EC_gen("P-256")); }

bool addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, signed by issuerKey (self-signed when issuer is null).
StatusOr<Cert> makeCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuerKey,
                        bool ca, long days) {
  Cert c(X509_new());
  if (!c) return Status::error("X509_new: " + sslError());
  X509_set_version(c.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Status::error("RAND_bytes: " + sslError());
  serial[0] &= 0x7f;   // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), days * 86400L);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("aa-session serve"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* iss = issuer ? issuer : c.get();
  X509_set_issuer_name(c.get(), X509_get_subject_name(iss));
  bool ok = addExt(c.get(), iss, NID_subject_key_identifier, "hash");
  if (ca) {
    ok = ok && addExt(c.get(), iss, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
         addExt(c.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = ok && addExt(c.get(), iss, NID_basic_constraints, "critical,CA:FALSE") &&
         addExt(c.get(), iss, NID_key_usage, "critical,digitalSignature") &&
         addExt(c.get(), iss, NID_ext_key_usage, "serverAuth") &&
         addExt(c.get(), iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") &&
         addExt(c.get(), iss, NID_authority_key_identifier, "keyid:always");
  }
  if (!ok) return Status::error("certificate extensions: " + sslError());
  if (!X509_sign(c.get(), issuerKey ? issuerKey : key, EVP_sha256()))
    return Status::error("X509_sign: " + sslError());
  return c;
}

Status writePem(const std::string& path, mode_t mode, X509* cert, X509* chain, EVP_PKEY* key) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::error(tmp + ": " + std::strerror(errno));
  File f(fdopen(fd, "w"));
  if (!f) {
    ::close(fd);
    return Status::error(tmp + ": " + std::strerror(errno));
  }
  bool ok = true;
  if (cert) ok = ok && PEM_write_X509(f.get(), cert) == 1;
  if (chain) ok = ok && PEM_write_X509(f.get(), chain) == 1;
  if (key) ok = ok && PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = ok && std::fflush(f.get()) == 0;
  if (!ok) return Status::error(tmp + ": write failed");
  f.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::error(path + ": " + std::strerror(errno));
  return Status();
}

Cert loadCert(const std::string& path) {
  File f(std::fopen(path.c_str(), "r"));
  return Cert(f ? PEM_read_X509(f.get(), nullptr, nullptr, nullptr) : nullptr);
}

Pkey loadKey(const std::string& path) {
  File f(std::fopen(path.c_str(), "r"));
  return Pkey(f ? PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr) : nullptr);
}

}  // namespace

StatusOr<TestCaFiles> ensureTestCa(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::error(dir + ": cannot make the CA directory: " + std::strerror(errno));
  TestCaFiles files;
  files.caCert = dir + "/ca.pem";
  files.caKey = dir + "/ca-key.pem";
  files.serverCert = dir + "/server.pem";
  files.serverKey = dir + "/server-key.pem";

  Cert ca = loadCert(files.caCert);
  Pkey caKey = loadKey(files.caKey);
  if (!ca || !caKey || X509_check_private_key(ca.get(), caKey.get()) != 1 ||
      X509_cmp_current_time(X509_get0_notAfter(ca.get())) <= 0) {
    ERR_clear_error();
    caKey = newKey();
    if (!caKey) return Status::error("EC key generation: " + sslError());
    auto c = makeCert(caKey.get(), "aa-session serve test CA", nullptr, nullptr, true, 365);
    if (!c.ok()) return c.status();
    ca = std::move(*c);
    if (Status s = writePem(files.caKey, 0600, nullptr, nullptr, caKey.get()); !s.ok()) return s;
    if (Status s = writePem(files.caCert, 0644, ca.get(), nullptr, nullptr); !s.ok()) return s;
    files.caCreated = true;
  }
  Pkey key = newKey();
  if (!key) return Status::error("EC key generation: " + sslError());
  auto leaf = makeCert(key.get(), "localhost", ca.get(), caKey.get(), false, 30);
  if (!leaf.ok()) return leaf.status();
  if (Status s = writePem(files.serverKey, 0600, nullptr, nullptr, key.get()); !s.ok()) return s;
  if (Status s = writePem(files.serverCert, 0644, leaf->get(), ca.get(), nullptr); !s.ok()) return s;
  return files;
}

}  // namespace aa::serve
