/* check_rules_atomic.c: check's rule over Valkey 9's atomic slot
 * migrations, as the masters list them (gathered with the key counts by
 * src/io/cluster/check_probe.c): one finding per job in flight, one per
 * failed or cancelled job that no newer job of its slots followed. A job is
 * listed by both ends; the two listings are folded into one. Pure. */
#include "slotctl/core/check.h"
#include "slotctl/core/exitcode.h"

#include <stdlib.h>
#include <string.h>

/* One job as both ends list it. */
struct folded {
	struct slotmig_job job;       /* the source's listing when there is one */
	bool running;                 /* either end says it runs */
};

/* Folds every listed job of p into *out (one per name). */
static int fold(const struct check_keys_count *p, size_t n, struct folded **out, size_t *count)
{
	size_t cap = 0, k = 0;
	struct folded *f = NULL;

	for (size_t i = 0; i < n; i++)
		cap += p[i].migrations.count;
	if (cap > 0 && (f = calloc(cap, sizeof(*f))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < p[i].migrations.count; j++) {
			const struct slotmig_job *job = &p[i].migrations.jobs[j];
			size_t at = 0;

			while (at < k && strcmp(f[at].job.name, job->name) != 0)
				at++;
			if (at == k) {
				f[k].job = *job;
				f[k++].running = job->outcome == SLOTMIG_RUNNING;
				continue;
			}
			f[at].running |= job->outcome == SLOTMIG_RUNNING;
			if (job->op == SLOTMIG_EXPORT)
				f[at].job = *job;
		}
	}
	*out = f;
	*count = k;
	return 0;
}

/* True when some other job listed after f's touches one of its slots. */
static bool followed(const struct folded *all, size_t n, const struct folded *f)
{
	for (size_t i = 0; i < n; i++) {
		struct slotset both;

		if (&all[i] == f || all[i].job.create_time < f->job.create_time)
			continue;
		if (all[i].job.create_time == f->job.create_time && strcmp(all[i].job.name, f->job.name) < 0)
			continue;
		slotset_intersect(&both, &all[i].job.slots, &f->job.slots);
		if (slotset_count(&both) > 0)
			return true;
	}
	return false;
}

static int add_finding(const struct snapshot *s, const struct folded *f, struct check_report *r)
{
	const struct slotmig_job *j = &f->job;
	char slots[256], from[360], to[360];
	struct check_finding *fd;

	slotset_format(&j->slots, slots, sizeof(slots));
	check_node_name(s, j->source_id, from, sizeof(from));
	check_node_name(s, j->target_id, to, sizeof(to));
	if (f->running) {
		fd = check_report_add(r, CHECK_WARN, "atomic-migration",
			"atomic slot migration %.8s moves slot%s %s from %s to %s: %s (wait for it, or "
			"'slotctl fix --cancel-atomic' to cancel it)",
			j->name, slotset_count(&j->slots) == 1 ? "" : "s", slots, from, to, j->state);
	} else {
		bool lost = strstr(j->message, "lost writes") != NULL;
		fd = check_report_add(r, lost ? CHECK_ERR : CHECK_WARN, "atomic-migration-failed",
			"atomic slot migration %.8s of slot%s %s from %s to %s %s%s%s%s%s", j->name,
			slotset_count(&j->slots) == 1 ? "" : "s", slots, from, to, slotmig_outcome_name(j->outcome),
			j->message[0] ? ": '" : "", j->message, j->message[0] ? "'" : "",
			lost ? " (check which node owns the slots and whether recent writes are there)"
			     : " (ownership did not move; plan the move again)");
	}
	if (fd == NULL || check_finding_add_node(fd, j->source_id, NULL) < 0 ||
	    check_finding_add_node(fd, j->target_id, NULL) < 0)
		return -1;
	/* the addresses as the snapshot knows them */
	check_node_ref_fill(s, j->source_id, &fd->nodes[0]);
	check_node_ref_fill(s, j->target_id, &fd->nodes[1]);
	fd->slots = j->slots;
	return 0;
}

int check_atomic_judge(const struct snapshot *s, const struct check_keys_count *p, size_t n,
	struct check_report *r, struct sc_error *err)
{
	struct folded *f = NULL;
	size_t count = 0;
	bool listed = false, running = false;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		listed |= p[i].migrations_listed;
	if (!listed)
		return 0;
	if (fold(p, n, &f, &count) != 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory while judging slot migrations");
	for (size_t i = 0; i < count && rc == 0; i++) {
		running |= f[i].running;
		if (f[i].running || (f[i].job.outcome != SLOTMIG_SUCCESS && !followed(f, count, &f[i])))
			rc = add_finding(s, &f[i], r);
	}
	if (rc == 0 && !running &&
	    !check_report_add(r, CHECK_OK, "atomic-migration", "no atomic slot migration in flight"))
		rc = -1;
	free(f);
	return rc == 0 ? 0 : sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory while judging slot migrations");
}
