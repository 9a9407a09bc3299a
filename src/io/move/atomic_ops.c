/* atomic_ops.c: the steps of Valkey 9's server-side slot migration on one
 * node each (MIGRATESLOTS, GETSLOTMIGRATIONS, CANCELSLOTMIGRATIONS, COMMAND
 * INFO), every reply read by conn's bounded reader and judged here or in
 * core/cluster/slotmig.c. Contracts in atomic_ops.h. */
#include "slotctl/io/atomic_ops.h"
#include "slotctl/io/clock.h"
#include "slotctl/io/parallel.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATOMIC_POLL_MAX_MS 40 /* polls of a job back off to at most this (a listing is cheap; a
                                 4096-slot job may end in 150 ms) */
#define ATOMIC_PROBE_THREADS 16 /* nodes atomic_probe_all asks at once */
/* Fields of one job a reply may carry (9.1 lists 11). */
#define ATOMIC_FIELDS_MAX 64

int atomic_supported(struct conn *c, bool *yes, struct sc_error *err)
{
	const char *argv[] = { "COMMAND", "INFO", "cluster|migrateslots" };
	redisReply *r = conn_command_argv(c, 3, argv, NULL, err);

	if (conn_check_reply(c, r, "COMMAND INFO", err) != 0) {
		freeReplyObject(r);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1) {
		freeReplyObject(r);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to COMMAND INFO with no list of one entry",
			conn_addr(c));
	}
	*yes = r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements > 0;
	freeReplyObject(r);
	return 0;
}

struct probe_ctx {
	struct atomic_probe *probes;
	const struct conn_opts *copts;
};

static void probe_one(void *ctx, size_t i)
{
	const struct probe_ctx *pc = ctx;
	struct atomic_probe *p = &pc->probes[i];
	struct conn *c;

	p->rc = 1;
	p->yes = false;
	if (!p->host)
		return;
	p->rc = -1;
	if (conn_open(p->host, p->port, pc->copts, &c, &p->err) < 0)
		return;
	p->rc = atomic_supported(c, &p->yes, &p->err);
	conn_close(c);
}

void atomic_probe_all(struct atomic_probe *probes, size_t n, const struct conn_opts *copts)
{
	struct probe_ctx pc = { probes, copts };

	parallel_for(n, n < ATOMIC_PROBE_THREADS ? (int)n : ATOMIC_PROBE_THREADS, probe_one, &pc);
}

/* One reply element as a field's text: strings as they are, integers in
 * decimal (into num). -1 for any other type. */
static int element_text(const redisReply *e, char *num, size_t numsize, const char **s, size_t *len)
{
	if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) {
		*s = e->str;
		*len = e->len;
		return 0;
	}
	if (e->type == REDIS_REPLY_INTEGER) {
		*len = (size_t)snprintf(num, numsize, "%lld", e->integer);
		*s = num;
		return 0;
	}
	return -1;
}

/* One listed job (an array of field/value pairs) into *job. */
static int job_from_reply(struct conn *c, const redisReply *e, const char *self_id, struct slotmig_job *job,
	struct sc_error *err)
{
	struct slotmig_field f[ATOMIC_FIELDS_MAX];
	char nums[ATOMIC_FIELDS_MAX][24];
	size_t n;

	if (e->type != REDIS_REPLY_ARRAY || e->elements % 2 != 0 || e->elements / 2 > ATOMIC_FIELDS_MAX)
		return sc_error_set(err, SC_EXIT_PROBLEMS,
			"'%s' replied to CLUSTER GETSLOTMIGRATIONS with a job that is not up to %d field/value pairs",
			conn_addr(c), ATOMIC_FIELDS_MAX);
	n = e->elements / 2;
	for (size_t i = 0; i < n; i++) {
		char keynum[24];
		if (element_text(e->element[2 * i], keynum, sizeof(keynum), &f[i].key, &f[i].key_len) != 0 ||
		    e->element[2 * i]->type == REDIS_REPLY_INTEGER ||
		    element_text(e->element[2 * i + 1], nums[i], sizeof(nums[i]), &f[i].val, &f[i].val_len) != 0)
			return sc_error_set(err, SC_EXIT_PROBLEMS,
				"'%s' replied to CLUSTER GETSLOTMIGRATIONS with a field that is not text", conn_addr(c));
	}
	if (slotmig_job_parse(f, n, self_id, job, err) != 0)
		return sc_error_prefix(err, "'%s' replied to CLUSTER GETSLOTMIGRATIONS with a", conn_addr(c));
	return 0;
}

/* The list in reply r (taken over: freed here) into *out. */
static int list_from_reply(struct conn *c, redisReply *r, const char *self_id, struct slotmig_list *out,
	struct sc_error *err)
{
	struct slotmig_list l = { NULL, 0 };

	if (conn_check_reply(c, r, "CLUSTER GETSLOTMIGRATIONS", err) != 0)
		goto fail;
	if (r->type != REDIS_REPLY_ARRAY) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to CLUSTER GETSLOTMIGRATIONS with no list",
			conn_addr(c));
		goto fail;
	}
	/* grown as jobs parse, not sized from the count the reply announces: a
	 * job takes 2.5 KB here, an empty element a few dozen bytes of the
	 * reply's budget */
	for (size_t i = 0, cap = 0; i < r->elements; i++) {
		if (l.count == cap) {
			struct slotmig_job *more = realloc(l.jobs, (cap ? 2 * cap : 8) * sizeof(*l.jobs));
			if (more == NULL) {
				sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
				goto fail;
			}
			l.jobs = more;
			cap = cap ? 2 * cap : 8;
		}
		if (job_from_reply(c, r->element[i], self_id, &l.jobs[l.count], err) != 0)
			goto fail;
		l.count++;
	}
	freeReplyObject(r);
	*out = l;
	return 0;
fail:
	freeReplyObject(r);
	slotmig_list_release(&l);
	return -1;
}

static redisReply *send_list(struct conn *c, struct sc_error *err)
{
	const char *argv[] = { "CLUSTER", "GETSLOTMIGRATIONS" };

	return conn_command_argv(c, 2, argv, NULL, err);
}

int atomic_list(struct conn *c, const char *self_id, struct slotmig_list *out, struct sc_error *err)
{
	return list_from_reply(c, send_list(c, err), self_id, out, err);
}

int atomic_list_if_any(struct conn *c, const char *self_id, struct slotmig_list *out, bool *supported,
	struct sc_error *err)
{
	redisReply *r = send_list(c, err);

	if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "ERR unknown subcommand", 22) == 0) {
		freeReplyObject(r);
		*supported = false;
		out->jobs = NULL;
		out->count = 0;
		return 0;
	}
	*supported = true;
	return list_from_reply(c, r, self_id, out, err);
}

int atomic_start(struct conn *c, const struct slotset *slots, const char *target_id, struct sc_error *err)
{
	/* CLUSTER MIGRATESLOTS SLOTSRANGE, at most 8192 runs of slots (2 words
	 * each), NODE <id> */
	enum { MAX_ARGS = 3 + SC_SLOTS + 2 };
	const char **argv = malloc(MAX_ARGS * sizeof(*argv));
	char (*nums)[8] = malloc(SC_SLOTS * sizeof(*nums));
	int argc = 0, n = 0;
	redisReply *r;
	int rc = -1;

	if (argv == NULL || nums == NULL) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		goto out;
	}
	argv[argc++] = "CLUSTER";
	argv[argc++] = "MIGRATESLOTS";
	argv[argc++] = "SLOTSRANGE";
	for (int s = 0; s < SC_SLOTS; s++) {
		if (!slotset_has(slots, s))
			continue;
		int last = s;
		while (last + 1 < SC_SLOTS && slotset_has(slots, last + 1))
			last++;
		snprintf(nums[n], sizeof(nums[n]), "%d", s);
		argv[argc++] = nums[n++];
		snprintf(nums[n], sizeof(nums[n]), "%d", last);
		argv[argc++] = nums[n++];
		s = last;
	}
	if (n == 0) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "no slots to migrate to '%.8s'", target_id);
		goto out;
	}
	if (n / 2 > ATOMIC_MAX_RANGES) {
		/* invariant (atomic_ops.h): no job names more ranges */
		sc_error_set(err, SC_EXIT_PROBLEMS, "refusing one atomic job of %d slot ranges to '%.8s': at most %d",
			n / 2, target_id, ATOMIC_MAX_RANGES);
		goto out;
	}
	argv[argc++] = "NODE";
	argv[argc++] = target_id;
	r = conn_command_argv(c, argc, argv, NULL, err);
	if (conn_check_reply(c, r, "CLUSTER MIGRATESLOTS", err) == 0) {
		if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0)
			rc = 0;
		else
			sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to CLUSTER MIGRATESLOTS with something else than OK",
				conn_addr(c));
	}
	freeReplyObject(r);
out:
	free(argv);
	free(nums);
	return rc;
}

int atomic_start_job(struct conn *c, const char *self_id, const struct slotset *slots, const char *target_id,
	struct slotmig_job *job, bool *named, struct sc_error *err)
{
	struct slotmig_list before, after;
	const struct slotmig_job *j;

	if (atomic_list(c, self_id, &before, err) != 0)
		return -1;
	if (atomic_start(c, slots, target_id, err) != 0) {
		slotmig_list_release(&before);
		return -1;
	}
	if (atomic_list(c, self_id, &after, err) != 0) {
		slotmig_list_release(&before);
		return sc_error_prefix(err, "a job was started but cannot be named");
	}
	j = slotmig_list_find_started(&after, slots, target_id, &before);
	*named = j != NULL;
	if (j != NULL)
		*job = *j;
	slotmig_list_release(&before);
	slotmig_list_release(&after);
	return 0;
}

int atomic_cancel(struct conn *c, bool *cancelled, struct sc_error *err)
{
	const char *argv[] = { "CLUSTER", "CANCELSLOTMIGRATIONS" };
	redisReply *r = conn_command_argv(c, 2, argv, NULL, err);

	if (r != NULL && r->type == REDIS_REPLY_ERROR && strstr(r->str, "No migrations ongoing") != NULL) {
		freeReplyObject(r);
		*cancelled = false;
		return 0;
	}
	if (conn_check_reply(c, r, "CLUSTER CANCELSLOTMIGRATIONS", err) != 0) {
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	*cancelled = true;
	return 0;
}

int atomic_wait(struct conn *c, const char *self_id, const char *name, long long deadline_ms,
	atomic_poll_fn on_poll, void *ctx, struct slotmig_job *out, bool *listed, struct sc_error *err)
{
	long long pause_ms = 5;

	for (;;) {
		struct slotmig_list l;
		const struct slotmig_job *j;
		int stop;

		if (atomic_list(c, self_id, &l, err) != 0)
			return -1;
		j = slotmig_list_find(&l, name);
		*listed = j != NULL;
		if (j != NULL)
			*out = *j;
		stop = on_poll != NULL && on_poll(ctx, j);
		slotmig_list_release(&l);
		if (stop)
			return 1;
		if (!*listed || out->outcome != SLOTMIG_RUNNING)
			return 0;
		long long now = sc_clock_ms();
		if (now >= deadline_ms)
			return sc_error_set(err, SC_EXIT_UNREACHABLE,
				"slot migration job %.8s on '%s' did not end in time (still %s)", name, conn_addr(c),
				out->state);
		sc_sleep_ms(pause_ms < deadline_ms - now ? pause_ms : deadline_ms - now);
		if (pause_ms < ATOMIC_POLL_MAX_MS)
			pause_ms *= 2;
	}
}

int atomic_wait_idle(struct conn *c, const char *self_id, long long deadline_ms, struct sc_error *err)
{
	long long pause_ms = 5;

	for (;;) {
		struct slotmig_list l;
		const struct slotmig_job *busy = NULL;
		char name[SLOTMIG_NAME_LEN + 1] = "", state[SLOTMIG_STATE_MAX] = "";

		if (atomic_list(c, self_id, &l, err) != 0)
			return -1;
		for (size_t j = 0; j < l.count && !busy; j++)
			if (l.jobs[j].outcome == SLOTMIG_RUNNING)
				busy = &l.jobs[j];
		if (busy) {
			memcpy(name, busy->name, sizeof(name));
			memcpy(state, busy->state, sizeof(state));
		}
		slotmig_list_release(&l);
		if (!name[0])
			return 0;
		long long now = sc_clock_ms();
		if (now >= deadline_ms)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "slot migration job %.8s on '%s' is still %s",
				name, conn_addr(c), state);
		sc_sleep_ms(pause_ms < deadline_ms - now ? pause_ms : deadline_ms - now);
		if (pause_ms < ATOMIC_POLL_MAX_MS)
			pause_ms *= 2;
	}
}

int atomic_cancel_all(struct conn *c, const char *self_id, int *n, struct sc_error *err)
{
	struct slotmig_list l;
	bool any;

	if (atomic_list(c, self_id, &l, err) != 0)
		return -1;
	*n = 0;
	for (size_t j = 0; j < l.count; j++)
		*n += l.jobs[j].op == SLOTMIG_EXPORT && l.jobs[j].outcome == SLOTMIG_RUNNING;
	slotmig_list_release(&l);
	return *n > 0 ? atomic_cancel(c, &any, err) : 0;
}
