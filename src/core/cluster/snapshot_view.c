/* snapshot_view.c: reading a snapshot (see slotctl/core/snapshot.h): the
 * cluster's map, a node's view by id, and releasing it. Pure; gathering is
 * src/io/cluster/snapshot.c. */
#include "slotctl/core/snapshot.h"

#include <stdlib.h>
#include <string.h>

void snapshot_release(struct snapshot *s)
{
	for (size_t i = 0; i < s->count; i++)
		topology_release(&s->nodes[i].view);
	free(s->nodes);
	s->nodes = NULL;
	s->count = 0;
	s->reference = -1;
}

const struct topology *snapshot_map(const struct snapshot *s)
{
	if (s->reference < 0 || (size_t)s->reference >= s->count)
		return NULL;
	return &s->nodes[s->reference].view;
}

int snapshot_index(const struct snapshot *s, const char *id)
{
	if (!id || !id[0])
		return -1;
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->nodes[i].id, id) == 0)
			return (int)i;
	return -1;
}

const struct node_view *snapshot_find(const struct snapshot *s, const char *id)
{
	int i = snapshot_index(s, id);

	return i < 0 ? NULL : &s->nodes[i];
}

int snapshot_require_sound(const struct snapshot *s, const char *doing, struct sc_error *err)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->nodes[i].reachable && topology_require_sound_to(&s->nodes[i].view, doing, err) != 0)
			return -1;
	return 0;
}
