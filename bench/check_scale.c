/* check_scale.c: the cost of `slotctl check` on clusters too big to start
 * as real servers: N fake masters (tests/support/fake_server.c, one
 * listening socket and a thread per connection each, in this process),
 * every one answering CLUSTER NODES with the same N-line view (itself
 * flagged myself) and owning 16384/N slots, no keys. Times the phases of
 * one check as `slotctl check` runs them: snapshot_gather (every node's
 * CLUSTER NODES, CLUSTER INFO and CONFIG, parsed), check_evaluate (the
 * rules) and check_probe (the stray-key counts), and reports the bytes of
 * CLUSTER NODES read and the resident memory. Built and run by
 * bench/check-scale.sh; not part of the test suite. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "fake_server.h"
#include "slotctl/core/check.h"
#include "slotctl/io/check_probe.h"
#include "slotctl/io/snapshot.h"

static int n_nodes;
static struct fake_server **servers;
static char **lines;       /* line i with flags "master" */
static size_t *line_len;
static size_t text_len;    /* bytes of one whole view */
static volatile long long nodes_bytes;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A "Vm...:" line of /proc/self/status, in kB (0 when absent). */
static long status_kb(const char *field)
{
	char line[256];
	long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0) {
			kb = strtol(line + strlen(field), NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return kb;
}

static void node_id(int i, char *buf)
{
	snprintf(buf, 41, "%040x", i + 1);
}

/* One node's CLUSTER NODES: every line, its own flagged myself. */
static bool send_nodes(struct fake_client *fc, int self)
{
	char *text = malloc(text_len + 16), head[32];
	size_t k = 0;
	bool ok;

	for (int i = 0; i < n_nodes; i++) {
		if (i == self) {
			const char *m = strstr(lines[i], " master ");
			size_t pre = (size_t)(m - lines[i]) + 1;

			memcpy(text + k, lines[i], pre);
			memcpy(text + k + pre, "myself,", 7);
			memcpy(text + k + pre + 7, lines[i] + pre, line_len[i] - pre);
			k += line_len[i] + 7;
		} else {
			memcpy(text + k, lines[i], line_len[i]);
			k += line_len[i];
		}
	}
	__atomic_add_fetch(&nodes_bytes, (long long)k, __ATOMIC_RELAXED);
	snprintf(head, sizeof(head), "$%zu\r\n", k);
	ok = fake_send(fc, head, strlen(head)) && fake_send(fc, text, k) && fake_send(fc, "\r\n", 2);
	free(text);
	return ok;
}

static bool handler(struct fake_client *fc, int argc, char **argv, const size_t *len, void *ctx)
{
	int self = (int)(long)ctx;

	if (fake_arg_is(argc, argv, 0, "CLUSTER") && fake_arg_is(argc, argv, 1, "NODES"))
		return send_nodes(fc, self);
	if (fake_arg_is(argc, argv, 0, "CLUSTER") && fake_arg_is(argc, argv, 1, "INFO")) {
		char info[256];

		snprintf(info, sizeof(info), "cluster_state:ok\r\ncluster_slots_assigned:16384\r\n"
			"cluster_known_nodes:%d\r\ncluster_size:%d\r\ncluster_current_epoch:%d\r\n"
			"cluster_my_epoch:%d\r\n", n_nodes, n_nodes, n_nodes, self + 1);
		return fake_sendf(fc, "$%zu\r\n%s\r\n", strlen(info), info);
	}
	return fake_answer_default(fc, argc, argv, len);
}

/* The measurement, run as a Check test without fork: the fake server
 * reports through Check. */
START_TEST(one_check)
{
	struct conn_opts opts = { NULL, NULL, 30000, 120000 };
	struct check_report r;
	struct sc_error err;
	double t0, t1, t2, t3;
	char id[41];
	struct snapshot s;
	long rss_kb, rss_start_kb, rss_gathered_kb, rss_evaluated_kb;

	n_nodes = getenv("CHECK_SCALE_MASTERS") ? atoi(getenv("CHECK_SCALE_MASTERS")) : 100;
	servers = calloc((size_t)n_nodes, sizeof(*servers));
	lines = calloc((size_t)n_nodes, sizeof(*lines));
	line_len = calloc((size_t)n_nodes, sizeof(*line_len));
	for (int i = 0; i < n_nodes; i++)
		servers[i] = fake_start(handler, (void *)(long)i);
	for (int i = 0; i < n_nodes; i++) {
		int first = (int)((long long)i * 16384 / n_nodes), last = (int)((long long)(i + 1) * 16384 / n_nodes) - 1;
		char buf[256];

		node_id(i, id);
		snprintf(buf, sizeof(buf), "%s 127.0.0.1:%d@%d master - 0 1700000000000 %d connected %d-%d\n", id,
			fake_port(servers[i]), fake_port(servers[i]), i + 1, first, last);
		lines[i] = strdup(buf);
		line_len[i] = strlen(buf);
		text_len += line_len[i] + 7;
	}
	rss_start_kb = status_kb("VmRSS:");
	t0 = now();
	if (snapshot_gather("127.0.0.1", fake_port(servers[0]), &opts, &s, &err) != 0) {
		ck_abort_msg("gather: %s", err.msg);
	}
	t1 = now();
	rss_gathered_kb = status_kb("VmRSS:");
	if (check_evaluate(&s, &r, &err) != 0) {
		ck_abort_msg("evaluate: %s", err.msg);
	}
	t2 = now();
	rss_evaluated_kb = status_kb("VmHWM:");
	if (check_probe(&s, &opts, CHECK_KEYS_STRAY, &r, &err) != 0) {
		ck_abort_msg("probe: %s", err.msg);
	}
	t3 = now();
	rss_kb = status_kb("VmHWM:");
	printf("masters %5d: gather %7.3f s  evaluate %7.3f s  probe %7.3f s  total %7.3f s  (%.2f ms/node)  "
		"CLUSTER NODES read %.1f MB  peak RSS %.0f MB (%.0f MB before the check, %.0f MB once gathered, peak %.0f MB before the probe)  findings %zu (errors %zu)\n",
		n_nodes, t1 - t0, t2 - t1, t3 - t2, t3 - t0, (t3 - t0) * 1000 / n_nodes, (double)nodes_bytes / 1e6,
		(double)rss_kb / 1024, (double)rss_start_kb / 1024, (double)rss_gathered_kb / 1024, (double)rss_evaluated_kb / 1024, r.count, check_report_count(&r, CHECK_ERR));
	for (size_t i = 0; i < r.count && i < 3; i++)
		if (r.findings[i].severity != CHECK_OK)
			printf("  %s: %.150s\n", r.findings[i].code, r.findings[i].message);
	fflush(stdout);
	_exit(0); /* the fake servers' threads go with the process */
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("check_scale");
	TCase *tc = tcase_create("check_scale");
	SRunner *sr;

	tcase_set_timeout(tc, 3600);
	tcase_add_test(tc, one_check);
	suite_add_tcase(suite, tc);
	sr = srunner_create(suite);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	return srunner_ntests_failed(sr) == 0 ? 0 : 1;
}
