/* topology.c: the topology model of one node's view (see slotctl/topology.h):
 * lifecycle, lookups by id, id prefix and address, the slot owner map and
 * flag formatting. Parsing lives in topology_parse.c. */
#include "slotctl/topology.h"
#include "slotctl/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void topology_release(struct topology *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->nodes[i].aux);
		free(t->nodes[i].open);
	}
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

/* Deep-copies the heap parts of src into dst (a memcpy of src); on failure
 * dst's heap parts are NULL so it can be released. */
static int node_copy_heap(struct node *dst, const struct node *src)
{
	dst->aux = NULL;
	dst->open = NULL;
	if (src->aux && !(dst->aux = strdup(src->aux)))
		return -1;
	if (src->open_count) {
		dst->open = malloc(src->open_count * sizeof(*dst->open));
		if (!dst->open)
			return -1;
		memcpy(dst->open, src->open, src->open_count * sizeof(*dst->open));
	}
	return 0;
}

int topology_copy(struct topology *dst, const struct topology *src)
{
	struct topology t = { .nodes = NULL, .count = 0, .myself = src->myself };

	if (src->count) {
		t.nodes = malloc(src->count * sizeof(*t.nodes));
		if (!t.nodes)
			return -1;
	}
	for (size_t i = 0; i < src->count; i++) {
		t.nodes[i] = src->nodes[i];
		t.count++;
		if (node_copy_heap(&t.nodes[i], &src->nodes[i]) < 0) {
			topology_release(&t);
			return -1;
		}
	}
	*dst = t;
	return 0;
}

const struct node *topology_find(const struct topology *t, const char *id)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->nodes[i].id, id) == 0)
			return &t->nodes[i];
	return NULL;
}

const struct node *topology_find_prefix(const struct topology *t, const char *prefix, struct sc_error *err)
{
	const struct node *found = NULL;
	size_t plen = strlen(prefix), matches = 0;
	char list[SC_ERROR_MSG_MAX / 2] = "";

	if (plen == 0)
		return sc_error_set(err, SC_EXIT_USAGE, "empty node id"), NULL;
	for (size_t i = 0; i < t->count; i++) {
		size_t used = strlen(list);

		if (strncmp(t->nodes[i].id, prefix, plen) != 0)
			continue;
		found = &t->nodes[i];
		snprintf(list + used, sizeof(list) - used, "%s'%s'", matches ? ", " : "", found->id);
		matches++;
	}
	if (matches == 1)
		return found;
	if (matches == 0)
		sc_error_set(err, SC_EXIT_USAGE, "no node id starts with '%s'", prefix);
	else
		sc_error_set(err, SC_EXIT_USAGE, "node id '%s' is ambiguous: %zu nodes match (%s); give more characters",
			prefix, matches, list);
	return NULL;
}

const struct node *topology_find_addr(const struct topology *t, const char *ip, int port)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->nodes[i].port == port && strcmp(t->nodes[i].ip, ip) == 0)
			return &t->nodes[i];
	return NULL;
}

void topology_owner_map(const struct topology *t, int owner[SC_SLOTS])
{
	for (int slot = 0; slot < SC_SLOTS; slot++)
		owner[slot] = -1;
	for (size_t i = 0; i < t->count; i++) {
		const struct slotset *s = &t->nodes[i].slots;

		for (int w = 0; w < SC_SLOTS / 64; w++) {
			for (uint64_t bits = s->bits[w]; bits; bits &= bits - 1) {
				int slot = w * 64 + __builtin_ctzll(bits);

				owner[slot] = owner[slot] == -1 ? (int)i : -2;
			}
		}
	}
}

bool node_is_master(const struct node *n)
{
	return (n->flags & NODE_MASTER) && !(n->flags & NODE_REPLICA);
}

void node_flags_format(unsigned flags, char *buf, size_t size)
{
	static const struct {
		unsigned flag;
		const char *name;
	} order[] = {
		{ NODE_MYSELF, "myself" },
		{ NODE_MASTER, "master" },
		{ NODE_REPLICA, "slave" },
		{ NODE_PFAIL, "fail?" },
		{ NODE_FAIL, "fail" },
		{ NODE_HANDSHAKE, "handshake" },
		{ NODE_NOADDR, "noaddr" },
		{ NODE_NOFAILOVER, "nofailover" },
	};
	size_t used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(flags & order[i].flag))
			continue;
		snprintf(buf + used, size - used, "%s%s", used ? "," : "", order[i].name);
		used = strlen(buf);
	}
	if (used == 0)
		snprintf(buf, size, "noflags");
}
