/* fake_server.c: the scripted RESP server of fake_server.h. An accept
 * thread and one thread per connection; requests are parsed as RESP arrays
 * of bulk strings (all hiredis sends). fake_stop shuts every socket down so
 * blocked threads wake, then joins them. */
#include "fake_server.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAKE_MAX_CLIENTS 64
#define FAKE_MAX_ARGS 64
#define FAKE_MAX_REQUEST (1 << 20)

struct fake_client {
	struct fake_server *fs;
	int fd;
	pthread_t thread;
	char buf[FAKE_MAX_REQUEST];
	size_t len;
};

struct fake_server {
	int listen_fd;
	int port;
	fake_handler handler;
	void *ctx;
	pthread_t accept_thread;
	pthread_mutex_t lock;
	struct fake_client *clients[FAKE_MAX_CLIENTS];
	int client_count;
	volatile int stopping;
};

bool fake_send(struct fake_client *fc, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0 && !fc->fs->stopping) {
		ssize_t n = send(fc->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return len == 0;
}

bool fake_sendf(struct fake_client *fc, const char *fmt, ...)
{
	char small[4096], *text = small;
	va_list ap;
	int n;
	bool ok;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n >= sizeof(small)) {
		text = malloc((size_t)n + 1);
		if (!text)
			return false;
		va_start(ap, fmt);
		vsnprintf(text, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	ok = fake_send(fc, text, (size_t)n);
	if (text != small)
		free(text);
	return ok;
}

const struct fake_server *fake_client_server(const struct fake_client *fc)
{
	return fc->fs;
}

int fake_port(const struct fake_server *fs)
{
	return fs->port;
}

bool fake_arg_is(int argc, char **argv, int i, const char *word)
{
	return i < argc && strcasecmp(argv[i], word) == 0;
}

/* One complete request at the start of fc->buf: its length, with argv
 * pointing into the buffer (each argument NUL-terminated over its \r);
 * 0 when incomplete, -1 when not an array of bulk strings. */
static long parse_request(struct fake_client *fc, int *argc, char **argv, size_t *len)
{
	char *p = fc->buf, *end = fc->buf + fc->len, *nl;
	long n;

	if (fc->len == 0 || !(nl = memchr(p, '\n', fc->len)))
		return 0;
	if (*p != '*' || (n = strtol(p + 1, NULL, 10)) < 1 || n > FAKE_MAX_ARGS)
		return -1;
	p = nl + 1;
	for (long i = 0; i < n; i++) {
		long l;

		if (p >= end || !(nl = memchr(p, '\n', (size_t)(end - p))))
			return 0;
		if (*p != '$' || (l = strtol(p + 1, NULL, 10)) < 0)
			return -1;
		p = nl + 1;
		if (end - p < l + 2)
			return 0;
		argv[i] = p;
		len[i] = (size_t)l;
		p[l] = '\0';
		p += l + 2;
	}
	*argc = (int)n;
	return p - fc->buf;
}

static void *client_main(void *arg)
{
	struct fake_client *fc = arg;

	while (!fc->fs->stopping) {
		char *argv[FAKE_MAX_ARGS];
		size_t len[FAKE_MAX_ARGS];
		int argc = 0;
		long used = parse_request(fc, &argc, argv, len);
		ssize_t got;

		if (used < 0)
			break;
		if (used > 0) {
			bool more = fc->fs->handler(fc, argc, argv, len, fc->fs->ctx);

			memmove(fc->buf, fc->buf + used, fc->len - (size_t)used);
			fc->len -= (size_t)used;
			if (!more)
				break;
			continue;
		}
		if (fc->len == sizeof(fc->buf))
			break;
		got = recv(fc->fd, fc->buf + fc->len, sizeof(fc->buf) - fc->len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		fc->len += (size_t)got;
	}
	shutdown(fc->fd, SHUT_RDWR);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct fake_server *fs = arg;

	while (!fs->stopping) {
		int fd = accept(fs->listen_fd, NULL, NULL);
		struct fake_client *fc;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)); /* no Nagle delay per reply */
		fc = calloc(1, sizeof(*fc));
		pthread_mutex_lock(&fs->lock);
		if (!fc || fs->stopping || fs->client_count == FAKE_MAX_CLIENTS) {
			pthread_mutex_unlock(&fs->lock);
			close(fd);
			free(fc);
			continue;
		}
		fc->fs = fs;
		fc->fd = fd;
		if (pthread_create(&fc->thread, NULL, client_main, fc) != 0) {
			pthread_mutex_unlock(&fs->lock);
			close(fd);
			free(fc);
			continue;
		}
		fs->clients[fs->client_count++] = fc;
		pthread_mutex_unlock(&fs->lock);
	}
	return NULL;
}

struct fake_server *fake_start(fake_handler handler, void *ctx)
{
	struct fake_server *fs = calloc(1, sizeof(*fs));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	ck_assert_ptr_nonnull(fs);
	fs->handler = handler;
	fs->ctx = ctx;
	pthread_mutex_init(&fs->lock, NULL);
	fs->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fs->listen_fd, 0);
	ck_assert_int_eq(bind(fs->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fs->listen_fd, 16), 0);
	ck_assert_int_eq(getsockname(fs->listen_fd, (struct sockaddr *)&a, &alen), 0);
	fs->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&fs->accept_thread, NULL, accept_main, fs), 0);
	return fs;
}

void fake_stop(struct fake_server *fs)
{
	if (!fs)
		return;
	fs->stopping = 1;
	shutdown(fs->listen_fd, SHUT_RDWR);
	pthread_join(fs->accept_thread, NULL);
	close(fs->listen_fd);
	for (int i = 0; i < fs->client_count; i++) {
		shutdown(fs->clients[i]->fd, SHUT_RDWR);
		pthread_join(fs->clients[i]->thread, NULL);
		close(fs->clients[i]->fd);
		free(fs->clients[i]);
	}
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

/* ---- a healthy one-master cluster ---- */

static bool send_bulk(struct fake_client *fc, const char *text)
{
	return fake_sendf(fc, "$%zu\r\n%s\r\n", strlen(text), text);
}

bool fake_answer_default(struct fake_client *fc, int argc, char **argv, const size_t *len)
{
	int port = fc->fs->port;
	char text[512];

	(void)len;
	if (fake_arg_is(argc, argv, 0, "PING"))
		return fake_sendf(fc, "+PONG\r\n");
	if (fake_arg_is(argc, argv, 0, "CLUSTER") && argc >= 2) {
		if (fake_arg_is(argc, argv, 1, "NODES")) {
			snprintf(text, sizeof(text), "%s 127.0.0.1:%d@%d myself,master - 0 0 1 connected 0-16383\n",
				FAKE_NODE_ID, port, port);
			return send_bulk(fc, text);
		}
		if (fake_arg_is(argc, argv, 1, "MYID"))
			return send_bulk(fc, FAKE_NODE_ID);
		if (fake_arg_is(argc, argv, 1, "INFO"))
			return send_bulk(fc, "cluster_state:ok\r\ncluster_slots_assigned:16384\r\n"
				"cluster_known_nodes:1\r\ncluster_size:1\r\ncluster_current_epoch:1\r\n"
				"cluster_my_epoch:1\r\n");
		if (fake_arg_is(argc, argv, 1, "SLOTS"))
			return fake_sendf(fc, "*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:%d\r\n$40\r\n%s\r\n",
				port, FAKE_NODE_ID);
		if (fake_arg_is(argc, argv, 1, "COUNTKEYSINSLOT"))
			return fake_sendf(fc, ":0\r\n");
		if (fake_arg_is(argc, argv, 1, "GETKEYSINSLOT"))
			return fake_sendf(fc, "*0\r\n");
		return fake_sendf(fc, "-ERR unknown subcommand '%s'\r\n", argv[1]);
	}
	if (fake_arg_is(argc, argv, 0, "INFO"))
		return send_bulk(fc, "# Server\r\nredis_version:7.0.0\r\n# Memory\r\nused_memory:1000000\r\n"
			"maxmemory:0\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n");
	if (fake_arg_is(argc, argv, 0, "CONFIG"))
		return fake_sendf(fc, "*0\r\n");
	if (fake_arg_is(argc, argv, 0, "DBSIZE"))
		return fake_sendf(fc, ":0\r\n");
	if (fake_arg_is(argc, argv, 0, "ROLE"))
		return fake_sendf(fc, "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
	if (fake_arg_is(argc, argv, 0, "MEMORY"))
		return fake_sendf(fc, ":64\r\n");
	return fake_sendf(fc, "-ERR unknown command '%s'\r\n", argv[0]);
}
