/* The plain-HTTP loop of bench/recorder/plain_loop.sh: N small requests (GET /hello,
 * keep-alive) on one TCP connection to the loopback test server's plain listener
 * (fixtures/server/server.js --plain-port), by write(2) and read(2), as a local model
 * server's client does. Prints "wall_s=... cpu_s=... ops=N" on stderr: the loop's own
 * wall and CPU time (user + system, where the BPF programs run), connect excluded.
 *
 * usage: plain_loop_client PORT N */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *argv0 = "plain_loop_client";
static char buf[16384];
static size_t len;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void fill(int fd)
{
	ssize_t n;

	if (len == sizeof(buf)) {
		fprintf(stderr, "%s: reply larger than %zu bytes\n", argv0, sizeof(buf));
		exit(1);
	}
	n = read(fd, buf + len, sizeof(buf) - len);
	if (n <= 0) {
		fprintf(stderr, "%s: read: %s\n", argv0, n ? strerror(errno) : "server closed the connection");
		exit(1);
	}
	len += (size_t)n;
}

static void request(int fd)
{
	static const char req[] = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				  "Connection: keep-alive\r\n\r\n";
	char *end, *cl;
	size_t head, total;

	if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
		fprintf(stderr, "%s: write: %s\n", argv0, strerror(errno));
		exit(1);
	}
	while (!(end = memmem(buf, len, "\r\n\r\n", 4)))
		fill(fd);
	head = (size_t)(end + 4 - buf);
	if (len < 12 || memcmp(buf, "HTTP/1.1 200", 12) != 0) {
		fprintf(stderr, "%s: reply is not HTTP/1.1 200\n", argv0);
		exit(1);
	}
	end[2] = '\0';	/* headers are text: search them for the length */
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (!cl) {
		fprintf(stderr, "%s: reply has no Content-Length\n", argv0);
		exit(1);
	}
	total = head + strtoul(cl + 17, NULL, 10);
	if (total > sizeof(buf)) {
		fprintf(stderr, "%s: reply of %zu bytes is larger than the buffer\n", argv0, total);
		exit(1);
	}
	while (len < total)
		fill(fd);
	memmove(buf, buf + total, len - total);
	len -= total;
}

static long parse_count(const char *s, const char *name, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "%s: %s must be an integer in %ld..%ld, got '%s'\n", argv0, name, min, max, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	long port, n, i;
	double w0, c0, w1, c1;
	int fd, one = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PORT N\n", argv0);
		return 2;
	}
	port = parse_count(argv[1], "PORT", 1, 65535);
	n = parse_count(argv[2], "N", 1, 1L << 30);
	sa.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "%s: connect to 127.0.0.1:%ld: %s\n", argv0, port, strerror(errno));
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	w0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < n; i++)
		request(fd);
	w1 = now_s();
	c1 = cpu_s();
	close(fd);
	fprintf(stderr, "wall_s=%.6f cpu_s=%.6f ops=%ld\n", w1 - w0, c1 - c0, n);
	return 0;
}
