/* trickle.c: the byte-at-a-time relay of trickle.h. The listening socket is
 * made before the fork, so its port is known at once; the relay child forks
 * one process per connection, each killed with it (PR_SET_PDEATHSIG). */
#include "trickle.h"

#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRICKLE_BUF (1 << 20)

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_node(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		_exit(1);
	return fd;
}

/* Relays one connection until either side closes: client bytes at once,
 * node bytes one every delay_ms. */
static void relay(int client, int node_port, int delay_ms)
{
	static char buf[TRICKLE_BUF];
	int node = connect_node(node_port);
	size_t head = 0, tail = 0;
	long long next_byte = 0;

	for (;;) {
		struct pollfd p[2] = { { client, POLLIN, 0 }, { node, tail < TRICKLE_BUF ? POLLIN : 0, 0 } };
		long long wait = head < tail ? next_byte - mono_ms() : -1;
		char in[4096];
		ssize_t n;

		if (poll(p, 2, head < tail ? (int)(wait > 0 ? wait : 0) : -1) < 0)
			_exit(1);
		if (p[0].revents) {
			if ((n = read(client, in, sizeof(in))) <= 0 || write(node, in, (size_t)n) != n)
				_exit(0);
		}
		if (p[1].revents) {
			if ((n = read(node, buf + tail, TRICKLE_BUF - tail)) <= 0)
				_exit(0);
			tail += (size_t)n;
		}
		if (head < tail && mono_ms() >= next_byte) {
			if (write(client, buf + head, 1) != 1)
				_exit(0);
			if (++head == tail)
				head = tail = 0;
			next_byte = mono_ms() + delay_ms;
		}
	}
}

pid_t trickle_start(int node_port, int delay_ms, int *listen_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*listen_port = ntohs(sa.sin_port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGCHLD, SIG_IGN); /* no zombies from finished connections */
		for (;;) {
			int client = accept(fd, NULL, NULL);

			if (client < 0)
				_exit(1);
			if (fork() == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				close(fd);
				relay(client, node_port, delay_ms);
				_exit(0);
			}
			close(client);
		}
	}
	close(fd);
	return pid;
}

void trickle_stop(pid_t relay_pid)
{
	kill(relay_pid, SIGKILL);
	waitpid(relay_pid, NULL, 0);
}
