/* Deterministic workloads for the recorder tests and benchmarks. Linked statically so
 * that a run makes exactly the syscalls written here (no dynamic loader opening
 * libraries), which lets tests count expected records exactly.
 *
 *   aa_test_workload files DIR          the file operations recorder_test expects
 *   aa_test_workload writes FILE N      open, N one-byte writes, close
 *   aa_test_workload loop FILE SECONDS  open/write/close loop for a while
 *   aa_test_workload fileloop DIR N [RATE]  N x (open, read, pwrite, close) over 8 small
 *                                       files; RATE > 0 paces it to RATE syscalls/s
 *   aa_test_workload spawn N PROG       N x fork + exec PROG (exec storm), waits for each
 *
 * fileloop and spawn print "wall_s=... cpu_s=... ops=..." on stderr (the measured
 * loop only: startup excluded; cpu includes waited-for children).
 *   aa_test_workload implicit DIR       files closed by exec (O_CLOEXEC) and by exit
 *   aa_test_workload chown DIR          each ownership call once, by raw syscall number:
 *                                       chown, lchown (x86-64), fchown, fchownat (by
 *                                       dirfd, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH) and a
 *                                       chown of a missing file (-ENOENT)
 *   aa_test_workload closerange DIR     close_range(3, 10): a.txt closes, b.txt lives on
 *                                       through a dup at fd 20 until close(20)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void check(int ok, const char *what)
{
	if (!ok) {
		perror(what);
		exit(1);
	}
}

static int files(const char *dir)
{
	char a[4096], b[4096], sub[4096], d[4096], missing[4096];
	char buf[100];
	int fd, dfd;

	memset(buf, 'x', sizeof(buf));
	snprintf(a, sizeof(a), "%s/a.txt", dir);
	snprintf(b, sizeof(b), "%s/b.txt", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(d, sizeof(d), "%s/d.txt", dir);
	snprintf(missing, sizeof(missing), "%s/missing.txt", dir);

	fd = open(a, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	check(fd >= 0, "open a");
	check(write(fd, buf, 60) == 60, "write a");
	check(write(fd, buf, 40) == 40, "write a");
	close(fd);
	check(rename(a, b) == 0, "rename");
	check(unlink(b) == 0, "unlink");

	check(mkdir(sub, 0755) == 0, "mkdir");
	dfd = open(sub, O_DIRECTORY | O_RDONLY);
	check(dfd >= 0, "open sub");
	fd = openat(dfd, "c.txt", O_CREAT | O_WRONLY, 0600);
	check(fd >= 0, "openat c");
	check(write(fd, buf, 5) == 5, "write c");
	close(fd);
	check(unlinkat(dfd, "c.txt", 0) == 0, "unlinkat c");
	close(dfd);
	check(rmdir(sub) == 0, "rmdir");

	/* bytes written through a dup'd fd belong to the file that was opened */
	fd = open(d, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	check(fd >= 0, "open d");
	check(dup2(fd, 7) == 7, "dup2");
	close(fd);
	check(write(7, buf, 10) == 10, "write d");
	close(7);
	check(truncate(d, 3) == 0, "truncate");
	check(chmod(d, 0600) == 0, "chmod");
	check(unlink(d) == 0, "unlink d");

	check(open(missing, O_RDONLY) < 0, "open missing");
	return 0;
}

static int writes(const char *path, long n)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	check(fd >= 0, "open");
	for (long i = 0; i < n; i++)
		check(write(fd, "x", 1) == 1, "write");
	close(fd);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int loop(const char *path, double seconds)
{
	double end = now() + seconds;

	while (now() < end) {
		int fd = open(path, O_CREAT | O_WRONLY | O_APPEND, 0644);

		check(fd >= 0, "open");
		check(write(fd, "y", 1) == 1, "write");
		close(fd);
		usleep(1000);
	}
	return 0;
}


static double cpu_seconds(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
	       kids.ru_stime.tv_sec +
	       (self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
		kids.ru_stime.tv_usec) / 1e6;
}

static void report(double wall0, double cpu0, long ops)
{
	fprintf(stderr, "wall_s=%.6f cpu_s=%.6f ops=%ld\n", now() - wall0, cpu_seconds() - cpu0,
		ops);
}

static int fileloop(const char *dir, long n, double rate)
{
	char path[8][4096], buf[512];
	double wall0, cpu0;

	memset(buf, 'z', sizeof(buf));
	for (int i = 0; i < 8; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/f%d", dir, i);
		int fd = open(path[i], O_CREAT | O_WRONLY | O_TRUNC, 0644);

		check(fd >= 0, "create");
		check(write(fd, buf, sizeof(buf)) == sizeof(buf), "fill");
		close(fd);
	}
	wall0 = now();
	cpu0 = cpu_seconds();
	for (long i = 0; i < n; i++) {
		int fd = open(path[i & 7], O_RDWR);

		check(fd >= 0, "open");
		check(read(fd, buf, 256) == 256, "read");
		check(pwrite(fd, buf, 64, 0) == 64, "write");
		close(fd);
		/* pacing: 4 syscalls per iteration; check the schedule every 256 iterations */
		if (rate > 0 && (i & 255) == 255) {
			double due = wall0 + (i + 1) * 4 / rate, t = now();

			if (due > t)
				usleep((useconds_t)((due - t) * 1e6));
		}
	}
	report(wall0, cpu0, n * 4);
	return 0;
}

static int spawn(long n, const char *prog)
{
	double wall0 = now(), cpu0 = cpu_seconds();

	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		int st;

		check(pid >= 0, "fork");
		if (pid == 0) {
			execl(prog, prog, (char *)NULL);
			_exit(127);
		}
		check(waitpid(pid, &st, 0) == pid, "waitpid");
	}
	report(wall0, cpu0, n);
	return 0;
}

/* DIR/cloexec.txt is closed by the exec, DIR/kept.txt (no O_CLOEXEC) survives it and
 * is closed by the exit of the new image, /bin/true. */
static int implicit(const char *dir)
{
	char a[4096], b[4096];
	int fa, fb;

	snprintf(a, sizeof(a), "%s/cloexec.txt", dir);
	snprintf(b, sizeof(b), "%s/kept.txt", dir);
	fa = open(a, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	fb = open(b, O_CREAT | O_WRONLY, 0644);
	check(fa >= 0 && fb >= 0, "open");
	check(write(fa, "abc", 3) == 3, "write");
	check(write(fb, "defg", 4) == 4, "write");
	execl("/bin/true", "true", (char *)NULL);
	perror("exec");
	return 1;
}

static int closerange(const char *dir)
{
	char a[4096], b[4096];
	int fa, fb;

	snprintf(a, sizeof(a), "%s/a.txt", dir);
	snprintf(b, sizeof(b), "%s/b.txt", dir);
	fa = open(a, O_CREAT | O_WRONLY, 0644);
	fb = open(b, O_CREAT | O_WRONLY, 0644);
	check(fa >= 0 && fa <= 10 && fb >= 0 && fb <= 10, "open");
	check(write(fa, "12", 2) == 2 && write(fb, "345", 3) == 3, "write");
	check(dup2(fb, 20) == 20, "dup2");
	check(close_range(3, 10, 0) == 0, "close_range");
	check(write(20, "6789", 4) == 4, "write");
	close(20);
	return 0;
}

/* openat2 with RESOLVE_IN_ROOT: "/in-root.txt" names DIR/in-root.txt (DIR is the
 * root for that lookup), and "/missing/x" fails. */
static int inroot(const char *dir)
{
	struct open_how how = { .flags = O_CREAT | O_WRONLY | O_TRUNC, .mode = 0644,
				.resolve = RESOLVE_IN_ROOT };
	int dfd = open(dir, O_DIRECTORY | O_RDONLY), fd;

	if (dfd < 0)
		return 1;
	fd = (int)syscall(SYS_openat2, dfd, "/in-root.txt", &how, sizeof(how));
	if (fd < 0 || write(fd, "abc", 3) != 3)
		return 1;
	close(fd);
	how.flags = O_RDONLY;
	how.mode = 0;
	if (syscall(SYS_openat2, dfd, "/missing/x", &how, sizeof(how)) >= 0)
		return 1;
	close(dfd);
	return 0;
}

/* The raw syscalls, not libc's wrappers: which call the kernel sees is then the test's
 * choice (a libc may implement chown with fchownat). */
static int chowns(const char *dir)
{
	char f[4096], l[4096], missing[4096];
	int fd, dfd;

	snprintf(f, sizeof(f), "%s/f.txt", dir);
	snprintf(l, sizeof(l), "%s/l", dir);
	snprintf(missing, sizeof(missing), "%s/missing.txt", dir);
	fd = open(f, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	check(fd >= 0, "open f");
	check(symlink("f.txt", l) == 0, "symlink");
	dfd = open(dir, O_DIRECTORY | O_RDONLY);
	check(dfd >= 0, "open dir");
#ifdef SYS_chown
	check(syscall(SYS_chown, f, 1001, 1002) == 0, "chown");
	check(syscall(SYS_lchown, l, 1003, -1) == 0, "lchown");
#endif
	check(syscall(SYS_fchown, fd, -1, 1004) == 0, "fchown");
	check(syscall(SYS_fchownat, dfd, "f.txt", 1005, 1006, 0) == 0, "fchownat");
	check(syscall(SYS_fchownat, dfd, "l", 1007, 1008, AT_SYMLINK_NOFOLLOW) == 0,
	      "fchownat nofollow");
	check(syscall(SYS_fchownat, fd, "", 1009, -1, AT_EMPTY_PATH) == 0, "fchownat empty");
	check(syscall(SYS_fchownat, AT_FDCWD, missing, 1, 1, 0) < 0, "fchownat missing");
	close(dfd);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "files"))
		return files(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "writes"))
		return writes(argv[2], atol(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "loop"))
		return loop(argv[2], atof(argv[3]));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "fileloop"))
		return fileloop(argv[2], atol(argv[3]), argc == 5 ? atof(argv[4]) : 0);
	if (argc == 3 && !strcmp(argv[1], "chown"))
		return chowns(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "closerange"))
		return closerange(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "implicit"))
		return implicit(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "inroot"))
		return inroot(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "spawn"))
		return spawn(atol(argv[2]), argv[3]);
	fprintf(stderr, "usage: aa_test_workload files DIR | writes FILE N | loop FILE SECONDS | "
			"fileloop DIR N [RATE] | spawn N PROG | implicit DIR | chown DIR | closerange DIR | inroot DIR\n");
	return 2;
}
