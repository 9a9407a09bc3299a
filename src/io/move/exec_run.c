/* exec_run.c: the state of an executor run, shared by apply, resume and
 * abort: its masters (the nodes of the map it started from, then those it
 * followed), its moves in plan order, the owner each slot should end with,
 * and the locks its threads share. The bottom of the executor: it calls no
 * other executor file. Journaling and events are exec_journal.c, the
 * scheduler exec_sched.c, the shards exec_shard.c. */
#include "executor_priv.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frees the run's shards. */
static void shards_release(struct exec_run *run)
{
	for (size_t k = 0; k < run->shard_count; k++)
		free(run->shards[k].members);
	free(run->shards);
	run->shards = NULL;
	run->shard_count = 0;
}

void exec_run_init(struct exec_run *run, const char *op, const struct exec_opts *opts)
{
	memset(run, 0, sizeof(*run));
	run->op = op;
	run->o = opts;
	for (int i = 0; i < SC_SLOTS; i++)
		run->expected[i] = -1;
	pthread_mutex_init(&run->lock, NULL);
	pthread_mutex_init(&run->event_lock, NULL);
	pthread_cond_init(&run->changed, NULL);
	run->start_us = sc_clock_us();
	handover_ledger_init(&run->ledger);
}

void exec_run_release(struct exec_run *run)
{
	journal_file_close(run->journal);
	shards_release(run);
	free(run->nodes);
	free(run->moves);
	pthread_mutex_destroy(&run->lock);
	pthread_mutex_destroy(&run->event_lock);
	pthread_cond_destroy(&run->changed);
	handover_ledger_release(&run->ledger);
	memset(run, 0, sizeof(*run));
}

/* Fills run->nodes[run->node_count] (allocated, zeroed) and counts it. */
static int add_node(struct exec_run *run, const char *id, const char *host, int port)
{
	struct exec_node *e = &run->nodes[run->node_count];

	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->host, sizeof(e->host), "%s", host);
	e->port = port;
	e->shard = -1;
	addr_format(e->addr, sizeof(e->addr), e->host, e->port);
	return (int)run->node_count++;
}

int exec_run_nodes(struct exec_run *run, const struct topology *map, struct sc_error *err)
{
	int owner[SC_SLOTS];

	run->nodes = calloc(map->count ? map->count : 1, sizeof(*run->nodes));
	if (!run->nodes)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	for (size_t i = 0; i < map->count; i++)
		if (plan_node_eligible(&map->nodes[i]))
			add_node(run, map->nodes[i].id, map->nodes[i].ip, map->nodes[i].port);
	topology_owner_map(map, owner);
	for (int s = 0; s < SC_SLOTS; s++)
		run->expected[s] = owner[s] >= 0 ? exec_run_node(run, map->nodes[owner[s]].id) : -1;
	return 0;
}

int exec_run_add_node(struct exec_run *run, const char *id, const char *host, int port,
	struct sc_error *err)
{
	int i = exec_run_node(run, id);
	struct exec_node *nodes;

	if (i >= 0)
		return i;
	if (!(nodes = realloc(run->nodes, (run->node_count + 1) * sizeof(*nodes))))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	run->nodes = nodes;
	memset(&nodes[run->node_count], 0, sizeof(*nodes));
	return add_node(run, id, host, port);
}

int exec_run_node(const struct exec_run *run, const char *id)
{
	for (size_t i = 0; i < run->node_count; i++)
		if (strcmp(run->nodes[i].id, id) == 0)
			return (int)i;
	return -1;
}

struct exec_move *exec_run_add(struct exec_run *run, int slot, int batch, int src, int dst,
	enum journal_phase phase, struct sc_error *err)
{
	struct exec_move *grown = realloc(run->moves, (run->move_count + 1) * sizeof(*grown)), *m;

	if (!grown) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		return NULL;
	}
	run->moves = grown;
	m = &run->moves[run->move_count++];
	memset(m, 0, sizeof(*m));
	m->slot = slot;
	m->batch = batch;
	m->src = src;
	m->dst = dst;
	m->src_shard = run->nodes[src].shard;
	m->dst_shard = run->nodes[dst].shard;
	m->phase = phase;
	m->probe = true;
	run->progress.slots_total++;
	return m;
}
