/* cmd_check.c: `slotctl check HOST:PORT`: gathers a snapshot from the seed,
 * runs the check rules and probes, and prints one [OK]/[WARN]/[ERR] line per
 * finding and a summary (or the --json document). --wait re-gathers until
 * views converge and nothing is left open, or the time is up. */
#include "slotctl/core/check.h"
#include "slotctl/io/check_probe.h"
#include "slotctl/cli/cli.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/addr.h"

#include <stdlib.h>

#define WAIT_POLL_MS 200

static void print_human(const struct check_report *r, FILE *f)
{
	static const char *const tags[] = { "[OK]  ", "[WARN]", "[ERR] " };
	static const char *const colors[] = { "\033[32m", "\033[33m", "\033[31m" };
	const struct check_summary *s = &r->summary;
	bool color = cli_use_color(f);
	char keys[32] = "";

	for (size_t i = 0; i < r->count; i++) {
		const struct check_finding *fd = &r->findings[i];

		fprintf(f, "%s%s%s %s: %s\n", color ? colors[fd->severity] : "", tags[fd->severity],
			color ? "\033[0m" : "", fd->code, fd->message);
	}
	if (s->keys >= 0)
		snprintf(keys, sizeof(keys), ", %lld keys", s->keys);
	fprintf(f, "summary: %d nodes (%d reachable), %d masters, %d replicas, %d/%d slots covered%s; "
		"%zu ok, %zu warnings, %zu errors\n", s->nodes, s->reachable, s->masters, s->replicas,
		s->slots_covered, SC_SLOTS, keys, check_report_count(r, CHECK_OK),
		check_report_count(r, CHECK_WARN), check_report_count(r, CHECK_ERR));
}

static int print_json(const struct check_report *r, const char *seed, int code, bool settled)
{
	struct sc_error err;
	char *text = check_report_json(r, seed, code, settled, &err);

	if (!text) {
		cli_error("%s", err.msg);
		return -1;
	}
	printf("%s\n", text);
	free(text);
	return cli_flush_stdout();
}

/* The --json document when the seed itself failed (err): no cluster seen,
 * one node-unreachable finding naming the seed and why. */
static int print_failed(const char *seed, int code, const struct sc_error *err)
{
	struct check_report r = { .summary = { .keys = -1 } };
	struct check_finding *f = check_report_add(&r, CHECK_ERR, "node-unreachable", "%s", err->msg);
	int rc = f && check_finding_add_node(f, NULL, seed) == 0 ? print_json(&r, seed, code, false) : -1;

	if (!f)
		cli_error("out of memory");
	check_report_release(&r);
	return rc;
}

static int run_check(const struct cmd_args *args)
{
	const char *seed = args->argv[0];
	struct check_report report = { 0 };
	struct conn_opts opts;
	struct sc_error err = { 0 };
	long long wait_s, deadline;
	char host[256];
	int port, code, rc;
	bool settled;

	if (args_conn_opts(args, &opts) < 0 || args_int(args, "wait", 0, 86400, 0, &wait_s) < 0)
		return SC_EXIT_USAGE;
	if (addr_parse(seed, host, sizeof(host), &port, &err) < 0) {
		cli_error("%s", err.msg);
		return sc_exit_code(&err);
	}
	deadline = sc_clock_ms() + wait_s * 1000;
	for (;;) {
		rc = check_gather(host, port, &opts, args_flag(args, "deep") ? CHECK_KEYS_DEEP : CHECK_KEYS_STRAY,
			&report, &err);
		settled = rc == 0 && check_report_settled(&report);
		if (settled || sc_clock_ms() + WAIT_POLL_MS > deadline)
			break;
		if (rc == 0)
			check_report_release(&report);
		sc_sleep_ms(WAIT_POLL_MS);
	}
	if (rc < 0) {
		code = sc_exit_code(&err);
		cli_error("%s", err.msg);
		if (args_flag(args, "json") && print_failed(seed, code, &err) < 0)
			code = SC_EXIT_PROBLEMS;
		return code;
	}
	if (wait_s > 0 && !settled)
		cli_warn("views did not converge within %lld s; reporting the last state", wait_s);
	code = check_exit_code(&report, args_flag(args, "strict"));
	if (args_flag(args, "json")) {
		if (print_json(&report, seed, code, settled) < 0)
			code = SC_EXIT_PROBLEMS;
	} else {
		print_human(&report, stdout);
	}
	check_report_release(&report);
	return code;
}

static const struct cmd_option cmd_check_options[] = {
	{ "json", 0, OPT_FLAG, NULL, "print a versioned JSON document instead of text" },
	{ "wait", 'w', OPT_VALUE, "SECONDS", "re-check until views converge and no slot is open, at most SECONDS" },
	{ "strict", 0, OPT_FLAG, NULL, "exit 1 on warnings too" },
	{ "deep", 0, OPT_FLAG, NULL, "count keys in every slot on every master and name stray keys" },
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_check = {
	.name = "check",
	.synopsis = "HOST:PORT [--json] [--wait SECONDS] [--strict] [--deep]",
	.summary = "diagnose a cluster: coverage, open slots, agreement, node health",
	.options = cmd_check_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_check,
};
