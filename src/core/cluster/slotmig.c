/* slotmig.c: the jobs CLUSTER GETSLOTMIGRATIONS lists (Valkey 9's atomic
 * slot migrations), parsed from their field/value pairs and judged: which
 * slots they hold, which job a MIGRATESLOTS started. Pure; the contract
 * and what the server promises are in slotmig.h. */
#include "slotctl/core/slotmig.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool field_is(const struct slotmig_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->key_len == n && memcmp(f->key, name, n) == 0;
}

static bool is_hex_id(const char *s, size_t len)
{
	if (len != SLOTMIG_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* Copies a field's value into buf (size bytes), cut to fit. */
static void copy_cut(char *buf, size_t size, const struct slotmig_field *f)
{
	size_t n = f->val_len < size - 1 ? f->val_len : size - 1;

	memcpy(buf, f->val, n);
	buf[n] = '\0';
}

/* A decimal number of at most 18 digits, optionally negative. */
static int parse_ll(const char *s, size_t len, long long *out)
{
	long long v = 0;
	size_t i = 0;
	bool neg = false;

	if (len > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len || len - i > 18)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

static int parse_slot(const char *s, size_t len, int *out)
{
	long long v;

	if (len == 0 || s[0] == '-' || parse_ll(s, len, &v) != 0 || v >= SC_SLOTS)
		return -1;
	*out = (int)v;
	return 0;
}

int slotmig_ranges_parse(const char *text, size_t len, struct slotset *out, struct sc_error *err)
{
	struct slotset s;
	size_t i = 0;

	slotset_clear(&s);
	while (i < len) {
		size_t start = i, dash = (size_t)-1;
		int first, last;

		while (i < len && text[i] != ' ') {
			if (text[i] == '-' && dash == (size_t)-1)
				dash = i;
			i++;
		}
		if (dash == (size_t)-1 || parse_slot(text + start, dash - start, &first) != 0 ||
		    parse_slot(text + dash + 1, i - dash - 1, &last) != 0 || first > last)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "slot range '%.*s' is not 'first-last' within 0-16383",
				(int)(i - start > 40 ? 40 : i - start), text + start);
		slotset_add_range(&s, first, last);
		if (i < len)
			i++; /* the space */
		if (i == len && text[len - 1] == ' ')
			return sc_error_set(err, SC_EXIT_PROBLEMS, "slot ranges end with a space");
	}
	if (slotset_count(&s) == 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "no slot range given");
	*out = s;
	return 0;
}

static const char *const final_states[] = { "success", "failed", "cancelled" };

enum slotmig_outcome slotmig_outcome_of(const char *state)
{
	for (size_t i = 0; i < sizeof(final_states) / sizeof(final_states[0]); i++)
		if (strcmp(state, final_states[i]) == 0)
			return (enum slotmig_outcome)(SLOTMIG_SUCCESS + i);
	return SLOTMIG_RUNNING;
}

const char *slotmig_outcome_name(enum slotmig_outcome o)
{
	return o == SLOTMIG_RUNNING ? "running" : final_states[o - SLOTMIG_SUCCESS];
}

/* The node id of a source_node / target_node / node field, or an error. */
static int take_id(const struct slotmig_field *f, char *out, struct sc_error *err)
{
	if (!is_hex_id(f->val, f->val_len))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%.*s' is not a node id", (int)f->key_len, f->key);
	memcpy(out, f->val, SLOTMIG_NAME_LEN);
	out[SLOTMIG_NAME_LEN] = '\0';
	return 0;
}

/* Fills j from one field it knows; fields it does not know are skipped.
 * *seen gets a bit for each required field. */
static int take_field(const struct slotmig_field *f, struct slotmig_job *j, char *other, unsigned *seen,
	struct sc_error *err)
{
	if (field_is(f, "name")) {
		if (!is_hex_id(f->val, f->val_len))
			return sc_error_set(err, SC_EXIT_PROBLEMS, "job name is not 40 hex digits");
		memcpy(j->name, f->val, SLOTMIG_NAME_LEN);
		j->name[SLOTMIG_NAME_LEN] = '\0';
		*seen |= 1u;
	} else if (field_is(f, "operation")) {
		if (f->val_len == 6 && memcmp(f->val, "EXPORT", 6) == 0)
			j->op = SLOTMIG_EXPORT;
		else if (f->val_len == 6 && memcmp(f->val, "IMPORT", 6) == 0)
			j->op = SLOTMIG_IMPORT;
		else
			return sc_error_set(err, SC_EXIT_PROBLEMS, "operation is neither EXPORT nor IMPORT");
		*seen |= 2u;
	} else if (field_is(f, "slot_ranges")) {
		if (slotmig_ranges_parse(f->val, f->val_len, &j->slots, err) != 0)
			return -1;
		*seen |= 4u;
	} else if (field_is(f, "state")) {
		if (f->val_len == 0 || f->val_len >= SLOTMIG_STATE_MAX)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "state is empty or longer than %d bytes",
				SLOTMIG_STATE_MAX - 1);
		copy_cut(j->state, sizeof(j->state), f);
		*seen |= 8u;
	} else if (field_is(f, "source_node")) {
		return take_id(f, j->source_id, err);
	} else if (field_is(f, "target_node")) {
		return take_id(f, j->target_id, err);
	} else if (field_is(f, "node")) {
		return take_id(f, other, err);
	} else if (field_is(f, "create_time")) {
		if (parse_ll(f->val, f->val_len, &j->create_time) != 0)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "create_time is not a number");
	} else if (field_is(f, "last_update_time")) {
		if (parse_ll(f->val, f->val_len, &j->last_update_time) != 0)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "last_update_time is not a number");
	} else if (field_is(f, "message")) {
		copy_cut(j->message, sizeof(j->message), f);
	}
	return 0;
}

int slotmig_job_parse(const struct slotmig_field *f, size_t n, const char *self_id, struct slotmig_job *out,
	struct sc_error *err)
{
	struct slotmig_job j;
	char other[SC_NODE_ID_LEN + 1] = "";
	unsigned seen = 0;

	memset(&j, 0, sizeof(j));
	j.create_time = -1;
	j.last_update_time = -1;
	for (size_t i = 0; i < n; i++)
		if (take_field(&f[i], &j, other, &seen, err) != 0)
			return sc_error_prefix(err, "slot migration job");
	if (seen != 15u)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "slot migration job: no %s given",
			!(seen & 1u) ? "name" : !(seen & 2u) ? "operation" : !(seen & 4u) ? "slot_ranges" : "state");
	/* 9.0 names only the other end ("node"); the listing node is this end. */
	char *this_end = j.op == SLOTMIG_EXPORT ? j.source_id : j.target_id;
	char *other_end = j.op == SLOTMIG_EXPORT ? j.target_id : j.source_id;
	if (other_end[0] == '\0' && other[0] != '\0')
		memcpy(other_end, other, sizeof(other));
	if (this_end[0] == '\0' && self_id != NULL && strlen(self_id) == SC_NODE_ID_LEN)
		memcpy(this_end, self_id, SC_NODE_ID_LEN + 1);
	j.outcome = slotmig_outcome_of(j.state);
	*out = j;
	return 0;
}

void slotmig_list_release(struct slotmig_list *l)
{
	free(l->jobs);
	l->jobs = NULL;
	l->count = 0;
}

const struct slotmig_job *slotmig_list_find(const struct slotmig_list *l, const char *name)
{
	for (size_t i = 0; l != NULL && i < l->count; i++)
		if (strcmp(l->jobs[i].name, name) == 0)
			return &l->jobs[i];
	return NULL;
}

const struct slotmig_job *slotmig_list_find_started(const struct slotmig_list *l, const struct slotset *slots,
	const char *target_id, const struct slotmig_list *before)
{
	const struct slotmig_job *best = NULL;

	for (size_t i = 0; i < l->count; i++) {
		const struct slotmig_job *j = &l->jobs[i];
		if (j->op != SLOTMIG_EXPORT || strcmp(j->target_id, target_id) != 0 ||
		    !slotset_equal(&j->slots, slots) || slotmig_list_find(before, j->name) != NULL)
			continue;
		if (best == NULL || j->create_time > best->create_time)
			best = j;
	}
	return best;
}

static void list_collect(const struct slotmig_list *l, bool imports_only, struct slotset *out)
{
	slotset_clear(out);
	for (size_t i = 0; i < l->count; i++) {
		const struct slotmig_job *j = &l->jobs[i];
		if (j->outcome != SLOTMIG_RUNNING || (imports_only && j->op != SLOTMIG_IMPORT))
			continue;
		slotset_union(out, out, &j->slots);
	}
}

void slotmig_list_held(const struct slotmig_list *l, struct slotset *out)
{
	list_collect(l, false, out);
}

void slotmig_list_importing(const struct slotmig_list *l, struct slotset *out)
{
	list_collect(l, true, out);
}
