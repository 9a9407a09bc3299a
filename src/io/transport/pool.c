/* pool.c: open connections keyed by host, port and lane (see
 * slotctl/io/pool.h), so a command that talks to the same nodes many times
 * opens each once. A connection left broken by an I/O error is replaced on
 * the next request. */
#include "slotctl/io/pool.h"

#include <stdlib.h>
#include <string.h>
#include "slotctl/core/exitcode.h"

/* One open connection, and which of the pool's connections to its node it
 * is (its lane; 0 for conn_pool_get's). */
struct pool_entry {
	struct conn *conn;
	unsigned lane;
};

struct conn_pool {
	struct conn_opts opts;
	struct pool_entry *entries;
	size_t count;
	size_t cap;
};

struct conn_pool *conn_pool_new(const struct conn_opts *opts)
{
	struct conn_pool *p = calloc(1, sizeof(*p));

	if (p)
		p->opts = *opts;
	return p;
}

static size_t conn_pool_index(const struct conn_pool *p, const char *host, int port, unsigned lane)
{
	for (size_t i = 0; i < p->count; i++) {
		const struct pool_entry *e = &p->entries[i];

		if (e->lane == lane && conn_port(e->conn) == port && strcmp(conn_host(e->conn), host) == 0)
			return i;
	}
	return p->count;
}

struct conn *conn_pool_get_lane(struct conn_pool *p, const char *host, int port, unsigned lane,
	struct sc_error *err)
{
	size_t i = conn_pool_index(p, host, port, lane);
	struct conn *c;

	if (i < p->count && !conn_broken(p->entries[i].conn))
		return p->entries[i].conn;
	if (i < p->count) {
		conn_close(p->entries[i].conn);
		p->entries[i] = p->entries[--p->count];
	}
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct pool_entry *grown = realloc(p->entries, cap * sizeof(*grown));

		if (!grown) {
			sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
			return NULL;
		}
		p->entries = grown;
		p->cap = cap;
	}
	if (conn_open(host, port, &p->opts, &c, err) < 0)
		return NULL;
	p->entries[p->count++] = (struct pool_entry){ c, lane };
	return c;
}

struct conn *conn_pool_get(struct conn_pool *p, const char *host, int port, struct sc_error *err)
{
	return conn_pool_get_lane(p, host, port, 0, err);
}

void conn_pool_clear(struct conn_pool *p)
{
	for (size_t i = 0; i < p->count; i++)
		conn_close(p->entries[i].conn);
	p->count = 0;
}

void conn_pool_free(struct conn_pool *p)
{
	if (!p)
		return;
	conn_pool_clear(p);
	free(p->entries);
	free(p);
}
