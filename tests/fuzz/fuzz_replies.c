/* fuzz_replies.c: libFuzzer target for reply handling. The input is what a
 * node answers: a fake server on 127.0.0.1 (a thread of this process) sends
 * it, byte for byte, on every connection, while the real code reads it
 * through conn.c and hiredis's reader into the handlers of each command:
 *  - check_gather: CLUSTER NODES (a fixed view naming only the fake, so that
 *    nothing else is ever contacted; the parser has its own target), then the
 *    input as the replies to CLUSTER INFO and CONFIG GET, and on a second
 *    connection to DBSIZE and CLUSTER COUNTKEYSINSLOT (the probe of slots
 *    16380-16383, which the fixed view leaves uncovered);
 *  - sampler_run, on a map whose one master (the fake) owns slots 0-7: INFO
 *    memory, CLUSTER SLOT-STATS, COUNTKEYSINSLOT, GETKEYSINSLOT and MEMORY
 *    USAGE;
 *  - atomic_list: CLUSTER GETSLOTMIGRATIONS (Valkey 9's atomic slot
 *    migration jobs, judged by core/cluster/slotmig.c).
 * Replies that do not fit must be refused with an error; nothing may crash,
 * leak, overflow or wait past the timeouts. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "slotctl/io/check_probe.h"
#include "slotctl/io/sampler.h"
#include "slotctl/io/atomic_ops.h"

#define FAKE_ID "0123456789abcdef0123456789abcdef01234567"

static int listener = -1;
static int port;
static char nodes_reply[256];       /* the fixed CLUSTER NODES, as a RESP bulk string */

/* What the next connection is sent: set by the fuzzing thread before each
 * command that connects, copied by the server when it accepts. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t *input;
static size_t input_len;
static int connections;             /* accepted in this run: the first gets nodes_reply first */

/* Sends out (len bytes) while reading and dropping what the client sends,
 * then shuts the sending side and drains until the client closes. */
static void serve(int fd, const uint8_t *out, size_t len)
{
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
	size_t sent = 0;
	char sink[4096];

	while (poll(&p, 1, 5000) > 0) {
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(fd, sink, sizeof(sink));

			if (n <= 0)
				return;
		}
		if ((p.revents & POLLOUT) && sent < len) {
			ssize_t n = write(fd, out + sent, len - sent);

			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return;
			sent += n > 0 ? (size_t)n : 0;
		}
		if (sent == len && (p.events & POLLOUT)) {
			shutdown(fd, SHUT_WR);
			p.events = POLLIN;
		}
	}
}

static void *server(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(listener, NULL, NULL);
		uint8_t *copy;
		size_t len, pre;

		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		pthread_mutex_lock(&lock);
		pre = connections++ == 0 ? strlen(nodes_reply) : 0;
		len = pre + input_len;
		copy = malloc(len + 1);
		if (copy) {
			memcpy(copy, nodes_reply, pre);
			memcpy(copy + pre, input, input_len);
		}
		pthread_mutex_unlock(&lock);
		if (copy)
			serve(fd, copy, len);
		free(copy);
		close(fd);
	}
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	char text[160];
	pthread_t t;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(listener, 16) < 0 ||
	    getsockname(listener, (struct sockaddr *)&a, &alen) < 0) {
		perror("fuzz_replies: cannot listen on 127.0.0.1");
		exit(1);
	}
	port = ntohs(a.sin_port);
	snprintf(text, sizeof(text), FAKE_ID " 127.0.0.1:%d@%d myself,master - 0 0 1 connected 0-16379\n",
		port, port + 10000 > 65535 ? 0 : port + 10000);
	snprintf(nodes_reply, sizeof(nodes_reply), "$%zu\r\n%s\r\n", strlen(text), text);
	if (pthread_create(&t, NULL, server, NULL) != 0)
		exit(1);
	pthread_detach(t);
	return 0;
}

static void sample(const struct conn_opts *copts)
{
	struct node master = { .id = FAKE_ID, .ip = "127.0.0.1", .flags = NODE_MASTER, .link_connected = true };
	struct topology map = { &master, 1, -1 };
	struct sampler_opts so = { .sample_keys = 4, .bigkey_bytes = 100, .threads = 1 };
	struct slot_stats stats;
	struct sampler_cost cost;
	struct sc_error err;
	struct slotset owned = { { 0 } };

	master.port = port;
	slotset_add_range(&owned, 0, 7);
	if (node_slots_set(&master, &owned, NULL) < 0)
		return;
	if (sampler_run(&map, copts, &so, &stats, &cost, &err) == 0)
		slot_stats_release(&stats);
	node_slots_release(&master);
}

static void list_jobs(const struct conn_opts *copts)
{
	struct slotmig_list l;
	struct sc_error err;
	struct conn *c;

	if (conn_open("127.0.0.1", port, copts, &c, &err) != 0)
		return;
	if (atomic_list(c, FAKE_ID, &l, &err) == 0)
		slotmig_list_release(&l);
	conn_close(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn_opts copts = { .connect_timeout_ms = 2000, .command_timeout_ms = 2000 };
	struct check_report r;
	struct sc_error err;

	pthread_mutex_lock(&lock);
	input = data;
	input_len = size;
	connections = 0;
	pthread_mutex_unlock(&lock);
	if (check_gather("127.0.0.1", port, &copts, false, &r, &err) == 0)
		check_report_release(&r);
	sample(&copts);
	list_jobs(&copts);
	pthread_mutex_lock(&lock);
	input = NULL;
	input_len = 0;
	pthread_mutex_unlock(&lock);
	return 0;
}
