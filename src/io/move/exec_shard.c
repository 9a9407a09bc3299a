/* exec_shard.c: the run's shards (a master and its replicas) and which node
 * plays each one now. A plan and a journal name masters by node id; when a
 * master fails over, its promoted replica holds the keys already moved (they
 * were replicated) but, on Redis, none of the IMPORTING/MIGRATING marks
 * (Valkey 8+ replicates them: shard_has_marker in exec_place.c), and the slots the shard owned now belong to it. The executor follows the
 * shard: the node that plays a move's source or target is the shard's master
 * now, found from every member's own view. */
#include "executor_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int exec_shard_of(const struct exec_run *run, const char *id)
{
	for (size_t k = 0; k < run->shard_count; k++)
		for (size_t j = 0; j < run->shards[k].count; j++)
			if (strcmp(run->shards[k].members[j], id) == 0)
				return (int)k;
	return -1;
}

/* Adds id to shard k (id is in no shard yet). */
static int add_member(struct exec_run *run, size_t k, const char *id, struct sc_error *err)
{
	struct exec_shard *sh = &run->shards[k];
	char (*grown)[SC_NODE_ID_LEN + 1] = realloc(sh->members, (sh->count + 1) * sizeof(*grown));

	if (!grown)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	sh->members = grown;
	snprintf(sh->members[sh->count++], sizeof(*grown), "%s", id);
	return 0;
}

int exec_shard_add(struct exec_run *run, int k, const char *id, struct sc_error *err)
{
	return exec_shard_of(run, id) >= 0 ? 0 : add_member(run, (size_t)k, id, err);
}

int exec_shard_ensure(struct exec_run *run, const char *id, struct sc_error *err)
{
	int k = exec_shard_of(run, id);
	struct exec_shard *grown;

	if (k >= 0)
		return k;
	if (!(grown = realloc(run->shards, (run->shard_count + 1) * sizeof(*grown))))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	run->shards = grown;
	memset(&grown[run->shard_count], 0, sizeof(*grown));
	snprintf(grown[run->shard_count].name, sizeof(grown->name), "%s", id);
	if (add_member(run, run->shard_count, id, err) != 0)
		return -1;
	return (int)run->shard_count++;
}

int exec_shards_parse(struct exec_run *run, const char *text, struct sc_error *err)
{
	char id[SC_NODE_ID_LEN + 1];
	int k = -1;

	for (const char *p = text ? text : ""; *p;) {
		size_t n = strcspn(p, " ;");

		if (n > 0 && n <= SC_NODE_ID_LEN) {
			memcpy(id, p, n);
			id[n] = '\0';
			if (k < 0)
				k = exec_shard_ensure(run, id, err);
			else if (exec_shard_add(run, k, id, err) != 0)
				return -1;
			if (k < 0)
				return -1;
		}
		p += n;
		if (*p == ';')
			k = -1;
		if (*p)
			p++;
	}
	return 0;
}

char *exec_shards_format(const struct exec_run *run)
{
	size_t size = 1;
	struct strbuf sb;
	char *s;

	for (size_t k = 0; k < run->shard_count; k++)
		size += run->shards[k].count * (SC_NODE_ID_LEN + 1) + 1;
	if (!(s = malloc(size)))
		return NULL;
	strbuf_init(&sb, s, size);
	for (size_t k = 0; k < run->shard_count; k++)
		for (size_t j = 0; j < run->shards[k].count; j++)
			strbuf_addf(&sb, "%s%s", j ? " " : k ? ";" : "", run->shards[k].members[j]);
	return s;
}

/* Node i of the map as it describes itself (its own view's myself line,
 * when it answered): a node's own view knows its role first. */
static const struct node *self_described(const struct snapshot *s, const struct topology *map, size_t i)
{
	const struct node_view *v = snapshot_find(s, map->nodes[i].id);

	if (v && v->reachable && v->view.myself >= 0)
		return &v->view.nodes[v->view.myself];
	return &map->nodes[i];
}

int exec_shards_grow(struct exec_run *run, const struct snapshot *s, struct sc_error *err)
{
	const struct topology *map = snapshot_map(s);
	bool grew = map != NULL;

	while (grew) {
		grew = false;
		for (size_t i = 0; i < map->count; i++) {
			const struct node *n = self_described(s, map, i);
			int k = -1;

			if (exec_shard_of(run, n->id) >= 0 || (n->flags & (NODE_HANDSHAKE | NODE_NOADDR)))
				continue;
			if (n->master_id[0])
				k = exec_shard_of(run, n->master_id);
			for (size_t j = 0; k < 0 && node_is_master(n) && j < map->count; j++)
				if (strcmp(self_described(s, map, j)->master_id, n->id) == 0)
					k = exec_shard_of(run, map->nodes[j].id);
			if (k < 0)
				continue;
			if (add_member(run, (size_t)k, n->id, err) != 0)
				return -1;
			grew = true;
		}
	}
	return 0;
}

int exec_shards_link(struct exec_run *run, const struct snapshot *s, struct sc_error *err)
{
	if (exec_shards_grow(run, s, err) != 0)
		return -1;
	for (size_t i = 0; i < run->node_count; i++) {
		if (exec_shard_ensure(run, run->nodes[i].id, err) < 0 || exec_shards_grow(run, s, err) != 0)
			return -1;
		run->nodes[i].shard = exec_shard_of(run, run->nodes[i].id);
	}
	return 0;
}

/* The member of shard k that is its master now: reachable, a master by its
 * own view, and of those the one with the greatest configEpoch (a failover
 * gives the promoted replica a greater one than its old master's). NULL when
 * no member qualifies. */
static const struct node_view *current_master(const struct exec_run *run, const struct snapshot *s, size_t k)
{
	const struct node_view *best = NULL;
	unsigned long long best_epoch = 0;

	for (size_t j = 0; j < run->shards[k].count; j++) {
		const struct node_view *v = snapshot_find(s, run->shards[k].members[j]);
		const struct node *me;

		if (!v || !v->reachable || v->view.myself < 0)
			continue;
		me = &v->view.nodes[v->view.myself];
		if (node_is_master(me) && (!best || me->config_epoch > best_epoch)) {
			best = v;
			best_epoch = me->config_epoch;
		}
	}
	return best;
}

int exec_shard_master(struct exec_run *run, const struct snapshot *s, int k, int *out, struct sc_error *err)
{
	const struct node_view *v = k >= 0 ? current_master(run, s, (size_t)k) : NULL;

	*out = -1;
	if (!v)
		return 0;
	if ((*out = exec_run_add_node(run, v->id, v->host, v->port, err)) < 0)
		return -1;
	run->nodes[*out].shard = k;
	run->nodes[*out].retired = false;
	return 0;
}

int exec_shard_none_left(const struct exec_run *run, int k, int slot, struct sc_error *err)
{
	char members[256];
	struct strbuf sb;

	strbuf_init(&sb, members, sizeof(members));
	for (size_t j = 1; k >= 0 && j < run->shards[k].count && sb.len < sizeof(members) - 12; j++)
		strbuf_addf(&sb, "%s%.8s", j > 1 ? ", " : "", run->shards[k].members[j]);
	return sc_error_set(err, SC_EXIT_REFUSED,
		"slot %d: the shard of %.8s has no master left (its replicas: %s): none of its nodes answers as a "
		"master; once one does, run 'slotctl resume', or 'slotctl fix'", slot,
		k >= 0 ? run->shards[k].name : "?", sb.len ? members : "none known");
}

void exec_shards_retire(struct exec_run *run, const struct snapshot *s)
{
	for (size_t i = 0; i < run->node_count; i++) {
		const struct node_view *v = snapshot_find(s, run->nodes[i].id);
		const struct node *me = v && v->reachable && v->view.myself >= 0 ? &v->view.nodes[v->view.myself] : NULL;
		int k = run->nodes[i].shard;
		const struct node_view *now = k >= 0 ? current_master(run, s, (size_t)k) : NULL;

		/* replaced: its shard's master is another node, or it answers as a
		 * replica; unreachable and replaced alike */
		if ((now && strcmp(now->id, run->nodes[i].id) != 0) || (me && !node_is_master(me)))
			run->nodes[i].retired = true;
	}
}
