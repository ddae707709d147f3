// A throwaway certificate authority for `aa-session serve --tls`: a CA (kept in a
// directory so that clients configured once keep trusting it) and a server certificate
// for localhost, 127.0.0.1 and ::1 signed by it. EC P-256 keys, SHA-256 signatures,
// with the extensions strict verifiers want (basicConstraints, keyUsage, SKI/AKI, SAN,
// extendedKeyUsage serverAuth). Nothing here is meant to protect anything: it lets a
// TLS client talk to the loopback mock without turning verification off.
#pragma once

#include <string>

#include "store/status.h"

namespace aa::serve {

struct TestCaFiles {
  std::string caCert;       // DIR/ca.pem: what clients trust (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE)
  std::string caKey;        // DIR/ca-key.pem (0600)
  std::string serverCert;   // DIR/server.pem: the server certificate, then the CA
  std::string serverKey;    // DIR/server-key.pem (0600)
  bool caCreated = false;   // false: an existing CA was reused
};

// Makes DIR (0700) when missing; reuses DIR/ca.pem + DIR/ca-key.pem when both load,
// otherwise makes a new CA; always issues a fresh server certificate (valid 30 days).
StatusOr<TestCaFiles> ensureTestCa(const std::string& dir);

}  // namespace aa::serve
