/* exec_recover_journal.c: what resume and abort (exec_recover.c) take from
 * the journal and, when the operator gives it, the plan: the journal must
 * record a run of that plan; a journal that records no slot gets the plan's
 * moves as slots of unknown phase (the nodes then tell); the pace the run
 * recorded, unless given another, and how to say so; which slots move alone
 * (barriers). No I/O. */
#include "executor_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct exec_opts exec_inherit_pacing(const struct exec_opts *o, const struct journal_pacing *p)
{
	struct exec_opts m = *o;

	if (!p->recorded)
		return m;
	if (!(o->given & EXEC_GIVEN_MAX_KEYS_PER_SEC))
		m.max_keys_per_sec = p->max_keys_per_sec;
	if (!(o->given & EXEC_GIVEN_MAX_BYTES_PER_SEC))
		m.max_bytes_per_sec = p->max_bytes_per_sec;
	if (!(o->given & EXEC_GIVEN_MAX_BLOCK) && p->max_block_us > 0)
		m.max_block_us = p->max_block_us;
	if (!(o->given & EXEC_GIVEN_BATCH_KEYS) && p->batch_keys > 0)
		m.batch_keys = (int)p->batch_keys;
	if (!(o->given & EXEC_GIVEN_PARALLEL) && p->parallel > 0)
		m.parallel = p->parallel;
	if (m.batch_bytes == 0)
		m.batch_bytes = p->batch_bytes;
	return m;
}

void exec_describe_inherited(const struct exec_opts *o, const struct exec_opts *m, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
#define INHERITED(field, fmt, value) \
	if (m->field != o->field) \
		strbuf_addf(&sb, "%s" fmt, sb.len ? " " : "continuing at the pace the journal records: ", value)
	INHERITED(max_keys_per_sec, "--max-keys-per-sec %lld", m->max_keys_per_sec);
	INHERITED(max_bytes_per_sec, "--max-bytes-per-sec %lld", m->max_bytes_per_sec);
	INHERITED(max_block_us, "--max-block-ms %g", (double)m->max_block_us / 1000.0);
	INHERITED(batch_keys, "--batch-keys %d", m->batch_keys);
	INHERITED(parallel, "--parallel %d", m->parallel);
#undef INHERITED
}

/* The plan's move of slot, or NULL. */
static const struct plan_move *plan_move_of(const struct plan *plan, int slot)
{
	for (size_t b = 0; b < plan->batch_count; b++)
		for (size_t k = 0; k < plan->batches[b].count; k++)
			if (plan->batches[b].moves[k].slot == slot)
				return &plan->batches[b].moves[k];
	return NULL;
}

int exec_check_same_plan(const struct journal_state *st, const char *journal_path,
	const struct plan *plan, struct sc_error *err)
{
	const char *why = NULL;
	char detail[160] = "";

	if (st->runs > 0 && strcmp(st->fingerprint, plan->fingerprint) != 0) {
		why = "fingerprint";
		snprintf(detail, sizeof(detail), "its fingerprint is %s, the plan's %s", st->fingerprint,
			plan->fingerprint);
	}
	for (size_t i = 0; !why && i < st->count; i++) {
		const struct journal_slot *js = &st->slots[i];
		const struct plan_move *pm = plan_move_of(plan, js->slot);

		if (!pm || strcmp(pm->from, js->from) != 0 || strcmp(pm->to, js->to) != 0) {
			why = "slot";
			snprintf(detail, sizeof(detail), "it moves slot %d from %.8s to %.8s, which the plan %s",
				js->slot, js->from, js->to, pm ? "moves otherwise" : "does not move");
		}
	}
	if (!why)
		return 0;
	return sc_error_set(err, SC_EXIT_REFUSED,
		"the journal '%s' records a run of another plan ('%s'): %s; nothing done: give the plan "
		"it belongs to, or the journal itself ('%s')", journal_path,
		st->plan_path[0] ? st->plan_path : "unnamed", detail, journal_path);
}

int exec_slots_from_plan(struct journal_state *st, const char *journal_path, const struct plan *plan,
	const char *op, struct sc_error *err)
{
	if (!plan)
		return sc_error_set(err, SC_EXIT_REFUSED,
			"the journal '%s' records no slot (%s): it cannot say which slots were moving, and "
			"nothing is done on its word; give the plan instead ('slotctl %s %s'): the nodes then say "
			"which of its moves started; or see 'slotctl check' and close open slots with 'slotctl fix'",
			journal_path, st->runs ? "only the start of a run, cut short" : "it is empty", op,
			st->plan_path[0] ? st->plan_path : "PLAN");
	for (size_t b = 0; b < plan->batch_count; b++) {
		for (size_t k = 0; k < plan->batches[b].count; k++) {
			const struct plan_move *pm = &plan->batches[b].moves[k];
			struct journal_record r = { .kind = JOURNAL_REC_SLOT, .slot = pm->slot, .batch = (int)b,
				.phase = JOURNAL_PENDING };

			snprintf(r.from, sizeof(r.from), "%s", pm->from);
			snprintf(r.to, sizeof(r.to), "%s", pm->to);
			if (journal_fold(st, &r, err) != 0)
				return -1;
		}
	}
	if (!st->runs)
		snprintf(st->fingerprint, sizeof(st->fingerprint), "%s", plan->fingerprint);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int exec_mark_alone(struct exec_run *run, const struct plan *plan, const struct journal_state *st,
	struct sc_error *err)
{
	int *batches = calloc(st->count ? st->count : 1, sizeof(int));
	bool *hot = calloc(SC_SLOTS, sizeof(bool));

	if (!batches || !hot) {
		free(batches);
		free(hot);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	for (size_t b = 0; plan && b < plan->batch_count; b++)
		for (size_t k = 0; k < plan->batches[b].count; k++)
			hot[plan->batches[b].moves[k].slot] = plan->batches[b].moves[k].hot;
	for (size_t i = 0; i < st->count; i++)
		batches[i] = st->slots[i].batch;
	qsort(batches, st->count, sizeof(int), cmp_int);
	for (size_t i = 0; i < run->move_count; i++) {
		struct exec_move *m = &run->moves[i];
		int *at = bsearch(&m->batch, batches, st->count, sizeof(int), cmp_int);
		size_t lo = at ? (size_t)(at - batches) : 0, hi = lo;

		while (at && lo > 0 && batches[lo - 1] == m->batch)
			lo--;
		while (at && hi + 1 < st->count && batches[hi + 1] == m->batch)
			hi++;
		m->alone = plan ? hot[m->slot] : !at || lo == hi;
	}
	free(batches);
	free(hot);
	return 0;
}
