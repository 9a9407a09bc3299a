/* pool.c: open connections keyed by host, port and lane (see
 * slotctl/io/pool.h), so a command that talks to the same nodes many times
 * opens each once. A connection left broken by an I/O error is replaced on
 * the next request. */
#include "slotctl/io/pool.h"

#include <stdlib.h>
#include <string.h>
#include "slotctl/core/exitcode.h"

struct conn_pool {
	struct conn_opts opts;
	struct conn **conns;
	unsigned *lanes;          /* lanes[i]: which of the connections to its node conns[i] is */
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
	for (size_t i = 0; i < p->count; i++)
		if (p->lanes[i] == lane && conn_port(p->conns[i]) == port && strcmp(conn_host(p->conns[i]), host) == 0)
			return i;
	return p->count;
}

struct conn *conn_pool_get_lane(struct conn_pool *p, const char *host, int port, unsigned lane,
	struct sc_error *err)
{
	size_t i = conn_pool_index(p, host, port, lane);
	struct conn *c;

	if (i < p->count && !conn_broken(p->conns[i]))
		return p->conns[i];
	if (i < p->count) {
		conn_close(p->conns[i]);
		p->count--;
		p->conns[i] = p->conns[p->count];
		p->lanes[i] = p->lanes[p->count];
	}
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct conn **grown = realloc(p->conns, cap * sizeof(*grown));
		unsigned *lanes;

		if (grown)
			p->conns = grown;
		if (!grown || !(lanes = realloc(p->lanes, cap * sizeof(*lanes)))) {
			sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
			return NULL;
		}
		p->lanes = lanes;
		p->cap = cap;
	}
	if (conn_open(host, port, &p->opts, &c, err) < 0)
		return NULL;
	p->lanes[p->count] = lane;
	p->conns[p->count++] = c;
	return c;
}

struct conn *conn_pool_get(struct conn_pool *p, const char *host, int port, struct sc_error *err)
{
	return conn_pool_get_lane(p, host, port, 0, err);
}

void conn_pool_clear(struct conn_pool *p)
{
	for (size_t i = 0; i < p->count; i++)
		conn_close(p->conns[i]);
	p->count = 0;
}

void conn_pool_free(struct conn_pool *p)
{
	if (!p)
		return;
	conn_pool_clear(p);
	free(p->conns);
	free(p->lanes);
	free(p);
}
