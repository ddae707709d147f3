/* TLS loop workload for bench/recorder/tls_loop.sh: N small HTTPS requests
 * (GET /hello) to the loopback server fixtures/server/server.js over keep-alive
 * connections, through the system's libssl (dynamically linked, so the recorder's
 * uprobes on SSL_write/SSL_read see it like any OpenSSL client).
 *
 * usage: tls_loop_client PORT CAFILE N [PER_CONN]
 *   PER_CONN  requests per connection (default 0: all N on one connection); a new
 *             connection costs a TCP connect and a full TLS 1.3 handshake.
 *
 * Times its own loop and prints "wall_s=.. cpu_s=.. ops=N" on stderr, the format
 * of tests/recorder/workload.c, so run.sh's helpers read both. The first connection
 * (handshake included) is made before the clock starts: the figure is per request,
 * not per process start. cpu_s is this process's user+system time within the loop.
 * Exits 1 with one line on stderr when a request fails or a reply is not a 200.
 *
 * TLS_LOOP_START_DELAY_MS=N waits N ms before the first connection. The tests use it
 * when this client carries OpenSSL inside the executable (aa_test_tls_static): its
 * hooks are attached after the recorder sees the exec, so calls made in the first
 * moments of the process can be missed (a known limit, docs/RECORDER.md). */
#define _GNU_SOURCE /* memmem, strcasestr */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
	int fd;
	SSL *ssl;
	/* bytes received but not yet consumed: a read may hold the next header's
	 * start or a body together with its headers */
	char buf[16384];
	size_t len;
};

static const char *argv0 = "tls_loop_client";

static void die_ssl(const char *what)
{
	unsigned long e = ERR_get_error();
	char msg[256] = "";
	if (e)
		ERR_error_string_n(e, msg, sizeof(msg));
	fprintf(stderr, "%s: %s failed%s%s\n", argv0, what, e ? ": " : "", msg);
	exit(1);
}

static double now_s(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void conn_open(struct conn *c, SSL_CTX *ctx, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "%s: connect to 127.0.0.1:%d: %s\n", argv0, port, strerror(errno));
		exit(1);
	}
	/* the request is one write, but without this the server's delayed ACK would
	 * still interact with our next request after a two-segment reply */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ssl = SSL_new(ctx);
	if (!c->ssl)
		die_ssl("SSL_new");
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	if (!SSL_set1_host(c->ssl, "localhost"))
		die_ssl("SSL_set1_host");
	if (SSL_connect(c->ssl) != 1)
		die_ssl("TLS handshake");
	c->len = 0;
}

static void conn_close(struct conn *c)
{
	SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	close(c->fd);
}

/* one more SSL_read into the buffer; a closed connection mid-reply is an error */
static void fill(struct conn *c)
{
	int n;

	if (c->len == sizeof(c->buf)) {
		fprintf(stderr, "%s: reply header larger than %zu bytes\n", argv0, sizeof(c->buf));
		exit(1);
	}
	n = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
	if (n <= 0)
		die_ssl("SSL_read (server closed the connection?)");
	c->len += n;
}

static void request(struct conn *c)
{
	static const char req[] = "GET /hello HTTP/1.1\r\nHost: localhost\r\n"
				  "Connection: keep-alive\r\n\r\n";
	char *end, *cl;
	size_t head, body, total;

	if (SSL_write(c->ssl, req, sizeof(req) - 1) != (int)(sizeof(req) - 1))
		die_ssl("SSL_write");
	for (;;) {
		end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end)
			break;
		fill(c);
	}
	head = end + 4 - c->buf;
	if (c->len < 12 || memcmp(c->buf, "HTTP/1.1 200", 12) != 0) {
		fprintf(stderr, "%s: reply is not HTTP/1.1 200: %.*s\n", argv0,
			(int)(memchr(c->buf, '\r', c->len) ? (char *)memchr(c->buf, '\r', c->len) - c->buf : 0),
			c->buf);
		exit(1);
	}
	/* headers are NUL-free text; terminate them to search for the length */
	end[2] = '\0';
	cl = strcasestr(c->buf, "\r\nContent-Length:");
	if (!cl) {
		fprintf(stderr, "%s: reply has no Content-Length\n", argv0);
		exit(1);
	}
	body = strtoul(cl + 17, NULL, 10);
	total = head + body;
	if (total > sizeof(c->buf)) {
		fprintf(stderr, "%s: reply of %zu bytes is larger than the %zu-byte buffer\n", argv0,
			total, sizeof(c->buf));
		exit(1);
	}
	while (c->len < total)
		fill(c);
	memmove(c->buf, c->buf + total, c->len - total);
	c->len -= total;
}

static long parse_count(const char *s, const char *name, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < min) {
		fprintf(stderr, "%s: %s must be an integer >= %ld, got '%s'\n", argv0, name, min, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct conn c;
	SSL_CTX *ctx;
	long port, n, per_conn = 0, i;
	double w0, c0, w1, c1;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s PORT CAFILE N [PER_CONN]\n", argv0);
		return 2;
	}
	port = parse_count(argv[1], "PORT", 1);
	if (port > 65535) {
		fprintf(stderr, "%s: PORT must be <= 65535, got %ld\n", argv0, port);
		return 2;
	}
	n = parse_count(argv[3], "N", 1);
	if (argc == 5)
		per_conn = parse_count(argv[4], "PER_CONN", 0);

	if (getenv("TLS_LOOP_START_DELAY_MS"))
		usleep((useconds_t)parse_count(getenv("TLS_LOOP_START_DELAY_MS"),
					       "TLS_LOOP_START_DELAY_MS", 0) * 1000);
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		die_ssl("SSL_CTX_new");
	if (SSL_CTX_load_verify_locations(ctx, argv[2], NULL) != 1) {
		char what[512];
		snprintf(what, sizeof(what), "loading CA file %s", argv[2]);
		die_ssl(what);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);

	conn_open(&c, ctx, (int)port);
	w0 = now_s(CLOCK_MONOTONIC);
	c0 = cpu_s();
	for (i = 0; i < n; i++) {
		if (per_conn && i && i % per_conn == 0) {
			conn_close(&c);
			conn_open(&c, ctx, (int)port);
		}
		request(&c);
	}
	w1 = now_s(CLOCK_MONOTONIC);
	c1 = cpu_s();
	conn_close(&c);
	SSL_CTX_free(ctx);
	fprintf(stderr, "wall_s=%.6f cpu_s=%.6f ops=%ld\n", w1 - w0, c1 - c0, n);
	return 0;
}
