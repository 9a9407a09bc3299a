/* fix_human.c: see fix_human.h. Items that differ in nothing but their
 * slot are one entry: "slots 0-1999 (2000 slots)", with the steps written
 * for a slot S; entries come in the order of their first slot. */
#include "fix_human.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Items that differ in their slot alone share a group; an item is
 * compared with the last GROUP_LOOKBACK groups only, which keeps the cost
 * linear and still joins slots whose states alternate. */
#define GROUP_LOOKBACK 32

typedef bool alike_fn(const struct repair_survey *sv, size_t a, size_t b);

struct groups {
	size_t *order;   /* item indices, grouped, groups in order of their first slot */
	size_t *gid;     /* per item */
};

/* The group of earlier items that item i is alike, among the last
 * GROUP_LOOKBACK of the count so far (rep: each group's first item); count
 * when none is. */
static size_t find_group(const struct repair_survey *sv, alike_fn *alike, const size_t *rep, size_t count,
	size_t i)
{
	for (size_t k = count; k > 0 && count - k < GROUP_LOOKBACK; k--)
		if (alike(sv, rep[k - 1], i))
			return k - 1;
	return count;
}

/* Groups sv's items by alike, then orders them group by group (a stable
 * counting sort, so items keep slot order within a group); false on OOM
 * (the caller prints ungrouped). */
static bool group_items(const struct repair_survey *sv, alike_fn *alike, struct groups *g)
{
	size_t n = sv->plan.count, count = 0, *rep;

	g->order = malloc((n ? n : 1) * sizeof(*g->order));
	g->gid = malloc((n ? n : 1) * sizeof(*g->gid));
	rep = calloc(n + 1, sizeof(*rep));
	if (!g->order || !g->gid || !rep) {
		free(g->order);
		free(g->gid);
		free(rep);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		g->gid[i] = find_group(sv, alike, rep, count, i);
		if (g->gid[i] == count)
			rep[count++] = i;
	}
	/* rep becomes each group's first position in order */
	memset(rep, 0, (n + 1) * sizeof(*rep));
	for (size_t i = 0; i < n; i++)
		rep[g->gid[i] + 1]++;
	for (size_t k = 0; k < count; k++)
		rep[k + 1] += rep[k];
	for (size_t i = 0; i < n; i++)
		g->order[rep[g->gid[i]]++] = i;
	free(rep);
	return true;
}

/* The group starting at position pos of g->order: its end position, and its
 * slots in text ("slot 5" or "slots 0-99,500 (101 slots)"). */
static size_t group_end(const struct repair_survey *sv, const struct groups *g, size_t pos, char *slots,
	size_t size)
{
	struct slotset set;
	size_t end = pos;

	slotset_clear(&set);
	while (end < sv->plan.count && g->gid[g->order[end]] == g->gid[g->order[pos]])
		slotset_add(&set, sv->plan.items[g->order[end++]].slot);
	if (end - pos == 1) {
		snprintf(slots, size, "slot %d", sv->plan.items[g->order[pos]].slot);
	} else {
		char ranges[256];

		slotset_format(&set, ranges, sizeof(ranges));
		snprintf(slots, size, "slots %s (%zu slots)", ranges, end - pos);
	}
	return end;
}

/* Calls print(sv, item, count, slots) once per group of alike items. */
static void for_each_group(const struct repair_survey *sv, alike_fn *alike,
	void (*print)(const struct repair_survey *sv, size_t item, size_t count, const char *slots))
{
	struct groups g;
	char slots[320];

	if (!group_items(sv, alike, &g)) {
		for (size_t i = 0; i < sv->plan.count; i++) {
			snprintf(slots, sizeof(slots), "slot %d", sv->plan.items[i].slot);
			print(sv, i, 1, slots);
		}
		return;
	}
	for (size_t pos = 0, end; pos < sv->plan.count; pos = end) {
		end = group_end(sv, &g, pos, slots, sizeof(slots));
		print(sv, g.order[pos], end - pos, slots);
	}
	free(g.order);
	free(g.gid);
}

static bool plan_alike(const struct repair_survey *sv, size_t a, size_t b)
{
	return repair_items_alike(&sv->plan.items[a], &sv->plan.items[b]);
}

static void print_item(const struct repair_survey *sv, size_t i, size_t count, const char *slots)
{
	const struct snapshot *s = &sv->snap;
	const struct repair_item *it = &sv->plan.items[i];
	const struct repair_state_info *info = repair_state_info(it->state);

	printf("%s: %s: %s\n", slots, info->name, info->meaning);
	if (it->blocked) {
		printf("  left unrepaired: %s\n", it->reason);
		return;
	}
	printf("  owner %s%s%s -> '%s'%s\n", it->owner >= 0 ? "'" : "",
		it->owner >= 0 ? s->nodes[it->owner].addr : "(none)", it->owner >= 0 ? "'" : "",
		s->nodes[it->target].addr, it->by_journal ? " (direction from the journal)" : "");
	if (count > 1)
		printf("  for each slot S:\n");
	for (size_t k = 0; k < it->step_count; k++) {
		char step[512];

		repair_step_describe(s, count > 1 ? -1 : it->slot, &it->steps[k], step, sizeof(step));
		printf("  %zu. %s\n", k + 1, step);
	}
}

void fix_print_plan(const struct repair_survey *sv)
{
	struct slotset lost;
	int nlost = repair_lost_slots(&sv->plan, &lost);

	for_each_group(sv, plan_alike, print_item);
	if (sv->plan.unreachable_masters > 0)
		printf("%d master%s could not be reached\n", sv->plan.unreachable_masters,
			sv->plan.unreachable_masters == 1 ? "" : "s");
	if (nlost > 0) {
		char slots[SC_SLOTS * 6];

		slotset_format(&lost, slots, sizeof(slots));
		printf("keys lost: every key of slots %s (%d slot%s) is gone with %d lost shard%s\n", slots, nlost,
			nlost == 1 ? "" : "s", sv->plan.lost_masters, sv->plan.lost_masters == 1 ? "" : "s");
	}
	printf("%zu broken slot%s, %zu to repair, %zu left unrepaired\n", sv->plan.count,
		sv->plan.count == 1 ? "" : "s", sv->plan.count - repair_plan_blocked(&sv->plan),
		repair_plan_blocked(&sv->plan));
}

/* Same state, target and outcome: status, counts, reason or error. */
static bool outcome_alike(const struct repair_survey *sv, size_t a, size_t b)
{
	const struct repair_item *x = &sv->plan.items[a], *y = &sv->plan.items[b];
	const struct repair_outcome *ox = &sv->outcomes[a], *oy = &sv->outcomes[b];

	if (x->state != y->state || x->target != y->target || ox->status != oy->status)
		return false;
	if (ox->status == REPAIR_DONE)
		return ox->keys_moved == oy->keys_moved && ox->keys_dropped == oy->keys_dropped;
	if (ox->status == REPAIR_LEFT)
		return strcmp(x->reason, y->reason) == 0;
	return ox->status != REPAIR_FAILED || strcmp(ox->error.msg, oy->error.msg) == 0;
}

static void print_outcome(const struct repair_survey *sv, size_t i, size_t count, const char *slots)
{
	const struct repair_item *it = &sv->plan.items[i];
	const struct repair_outcome *o = &sv->outcomes[i];
	const char *name = repair_state_info(it->state)->name;

	if (o->status == REPAIR_DONE)
		printf("[FIXED] %s %s: owned by '%s' (%lld keys moved, %lld copies dropped%s)\n", slots, name,
			sv->snap.nodes[it->target].addr, o->keys_moved, o->keys_dropped, count > 1 ? " each" : "");
	else if (o->status == REPAIR_LEFT)
		printf("[LEFT]  %s %s: %s\n", slots, name, it->reason);
	else
		printf("[FAILED] %s %s: %s\n", slots, name, o->error.msg);
}

void fix_print_outcomes(const struct repair_survey *sv)
{
	size_t counts[4] = { 0 };

	for (size_t i = 0; i < sv->plan.count; i++)
		counts[sv->outcomes[i].status]++;
	for_each_group(sv, outcome_alike, print_outcome);
	printf("fix: %zu repaired, %zu left unrepaired, %zu failed\n", counts[REPAIR_DONE],
		counts[REPAIR_LEFT], counts[REPAIR_FAILED]);
}
