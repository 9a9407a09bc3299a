/* fake_map.h: synthetic cluster maps for the unit tests of plan files and the
 * planner: N masters with ids "0001000100..", addresses 127.0.0.1:7000+i and
 * slots spread evenly, optionally with replicas. Header-only test helper. */
#ifndef SLOTCTL_TEST_FAKE_MAP_H
#define SLOTCTL_TEST_FAKE_MAP_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/topology.h"

/* The id of master i (or of a replica with replica=true): 40 hex digits made
 * of one 4-digit group repeated, so 4-digit prefixes are unique. */
static inline void fake_id(char out[SC_NODE_ID_LEN + 1], int i, bool replica)
{
	for (int k = 0; k < 10; k++)
		snprintf(out + 4 * k, 5, "%04x", (replica ? 0x8000 : 0) + i + 1);
}

/* n's slots to change in place (made its own: see node_slots_mut). */
static inline struct slotset *fake_slots(struct node *n)
{
	struct slotset *s = node_slots_mut(n);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* Fills t with masters masters (slots 0..16383 split evenly, in order) and
 * replicas replicas per master after them. Free with fake_map_free. */
static inline void fake_map_init(struct topology *t, int masters, int replicas)
{
	int total = masters * (1 + replicas);

	memset(t, 0, sizeof(*t));
	t->nodes = calloc((size_t)total, sizeof(*t->nodes));
	ck_assert_ptr_nonnull(t->nodes);
	t->count = (size_t)total;
	t->myself = 0;
	for (int i = 0; i < total; i++) {
		struct node *n = &t->nodes[i];
		int master = i < masters ? i : (i - masters) % masters;

		fake_id(n->id, i, i >= masters);
		snprintf(n->ip, sizeof(n->ip), "127.0.0.1");
		n->port = 7000 + i;
		n->cport = 17000 + i;
		n->link_connected = true;
		slotset_clear(fake_slots(n));
		if (i < masters) {
			int first = (int)((long long)SC_SLOTS * i / masters);
			int last = (int)((long long)SC_SLOTS * (i + 1) / masters) - 1;

			n->flags = NODE_MASTER | (i == 0 ? NODE_MYSELF : 0);
			n->config_epoch = (unsigned long long)i + 1;
			if (last >= first)
				slotset_add_range(fake_slots(n), first, last);
		} else {
			n->flags = NODE_REPLICA;
			fake_id(n->master_id, master, false);
		}
	}
}

/* Gives slots first..last to master m (taking them from whoever had them). */
static inline void fake_map_assign(struct topology *t, int first, int last, int m)
{
	for (size_t i = 0; i < t->count; i++)
		for (int s = first; s <= last; s++)
			slotset_remove(fake_slots(&t->nodes[i]), s);
	slotset_add_range(fake_slots(&t->nodes[m]), first, last);
}

static inline void fake_map_free(struct topology *t)
{
	topology_release(t);
}

#endif
