/* executor.c: what the executor's entry points (apply: exec_apply.c;
 * resume and abort: exec_recover.c) share once they have built a run: the
 * refusal of a run without the TLS options its plan or journal recorded,
 * and the run to its end: the moves (exec_sched.c), following a failover
 * mid-run (exec_failover.c), the verification (verify.c), the END record
 * and the summary (exec_journal.c). */
#include "executor_priv.h"

#include <stdio.h>

/* Ends a run: verifies when its moves all finished (and no stop came),
 * then the END record and the summary (exec_run_finish). Returns rc or the
 * verification's failure. */
static int end_run(struct exec_run *run, int rc, const char *seed_host, int seed_port,
	struct exec_result *res, struct sc_error *err)
{
	if (rc == 0 && !(run->o->stop && *run->o->stop)) {
		exec_emit(run, EXEC_EVENT_VERIFY, NULL, 0, 0, NULL);
		rc = exec_verify(run, seed_host, seed_port, err);
		res->verified = rc == 0;
	}
	return exec_run_finish(run, rc, res, err);
}

int exec_run_to_end(struct exec_run *run, bool abort, const char *seed_host, int seed_port,
	struct exec_result *res, struct sc_error *err)
{
	int rc = exec_run_moves(run, err);

	rc = exec_follow_failovers(run, rc, abort, err);
	return end_run(run, rc, seed_host, seed_port, res, err);
}

int exec_tls_as_recorded(const struct transport_note *then, const char *what, const char *path,
	const struct conn_opts *conn, struct sc_error *err)
{
	struct transport_note now = conn_tls_note(&conn->tls);
	char subject[1100];

	snprintf(subject, sizeof(subject), "%s '%s'", what, path ? path : "");
	return transport_note_check(then, &now, subject, err);
}
