/* aa_bench_floor: runs a command with only the floor probes of bench/recorder/floor.bpf.c
 * attached and its process tree in their tgid hash, as aa-record would hold it. The
 * command starts after every hook is attached, like under aa-record.
 *
 *   aa_bench_floor [-r READY_FILE] -- CMD [ARGS...]
 *
 * READY_FILE is created once the command is released (to run the floor beside another
 * workload). Exits with the command's status; prints the lookup hits on stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "floor.skel.h"

static void die(const char *what, int err)
{
	fprintf(stderr, "aa_bench_floor: %s: %s\n", what, strerror(err));
	exit(1);
}

int main(int argc, char **argv)
{
	const char *ready = NULL;
	int i = 1, go[2], status = 0;
	__u32 one = 1;
	struct floor_bpf *skel;
	pid_t child;
	char c;

	if (i + 1 < argc && strcmp(argv[i], "-r") == 0) {
		ready = argv[i + 1];
		i += 2;
	}
	if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
		fprintf(stderr, "usage: aa_bench_floor [-r READY_FILE] -- CMD [ARGS...]\n");
		return 2;
	}
	i++;
	if (pipe(go))
		die("pipe", errno);
	child = fork();
	if (child < 0)
		die("fork", errno);
	if (child == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		close(go[0]);
		execvp(argv[i], argv + i);
		fprintf(stderr, "aa_bench_floor: exec %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	close(go[0]);
	skel = floor_bpf__open_and_load();
	if (!skel)
		die("load floor.bpf.o", errno);
	if (bpf_map__update_elem(skel->maps.traced_pids, &child, sizeof(child), &one, sizeof(one),
				 BPF_ANY))
		die("seed traced_pids", errno);
	if (floor_bpf__attach(skel))
		die("attach", errno);
	if (write(go[1], "g", 1) != 1)
		die("release the command", errno);
	close(go[1]);
	if (ready) {
		int fd = open(ready, O_CREAT | O_WRONLY | O_TRUNC, 0644);

		if (fd < 0)
			die(ready, errno);
		close(fd);
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid", errno);
	}
	{
		int ncpu = libbpf_num_possible_cpus();
		__u64 *per = calloc(ncpu > 0 ? ncpu : 1, sizeof(*per)), sum = 0;
		__u32 zero = 0;

		if (per && ncpu > 0 &&
		    bpf_map__lookup_elem(skel->maps.hits, &zero, sizeof(zero), per,
					 sizeof(*per) * ncpu, 0) == 0)
			for (int k = 0; k < ncpu; k++)
				sum += per[k];
		fprintf(stderr, "aa_bench_floor: %llu lookups hit\n", (unsigned long long)sum);
		free(per);
	}
	floor_bpf__destroy(skel);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
