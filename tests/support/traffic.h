/* traffic.h: a cluster-aware client that reads and writes known keys while a
 * test (or a benchmark) moves slots underneath it, and counts every answer
 * that a correct cluster would not give. It runs in a forked child process,
 * routes by slot from CLUSTER SLOTS, follows MOVED (refreshing the map) and
 * ASK (ASKING, then the command on the named node), retries TRYAGAIN with a
 * short backoff, reads the map again after an I/O error (a node removed and
 * stopped) and retries where it then points, and bounds every operation in
 * time. A data-moving test
 * asserts `errors == 0 && ops > 0` on what traffic_stop returns. */
#ifndef SLOTCTL_TEST_TRAFFIC_H
#define SLOTCTL_TEST_TRAFFIC_H

#include <stdbool.h>
#include "slotctl/io/conn.h"

struct test_cluster;
struct traffic;

#define TRAFFIC_MAX_SEEDS 64
/* Only a bound on a client nobody stops (it also dies with its test): a
 * test's move may take minutes (a drain of 5461 slots on Valkey 9 with
 * replicas, whose every SETSLOT waits for them: 130-190 s on a loaded
 * machine), and traffic that stops on its own mid-test fails the test */
#define TRAFFIC_DEFAULT_SECONDS 900
#define TRAFFIC_DEFAULT_RATE 5000

struct traffic_opts {
	const char *host;        /* of every seed; NULL: "127.0.0.1" */
	int ports[TRAFFIC_MAX_SEEDS]; /* seed nodes to read the slot map from */
	int nports;
	const char *prefix;      /* keys "<prefix>:<i>", values sandbox_value_for(prefix, i) */
	int nkeys;               /* > 0; every key must exist from the start */
	int max_seconds;         /* hard stop of the loop; 0: TRAFFIC_DEFAULT_SECONDS */
	int ops_per_sec;         /* pacing; 0: as fast as one connection goes; <0: default */
	int op_timeout_ms;       /* bound on one operation, redirects included; 0: 2000 */
	bool read_only;          /* GET only (no SET) */
	struct conn_tls_opts tls; /* how to speak to the nodes (tls.enabled false: plaintext) */
};

struct traffic_stats {
	long ops;                /* GETs and SETs finished, failed ones included */
	long errors;             /* wrong value, missing key, error reply, I/O error, timeout */
	long moved;              /* MOVED redirections followed */
	long ask;                /* ASK redirections followed */
	long tryagain;           /* TRYAGAIN replies retried */
	long loops;              /* errors that were redirection loops (too many hops, or still
	                            redirected at the deadline), counted in errors too */
	long p50_us;             /* latency of one operation, redirects included */
	long p99_us;
	long p99_sched_us;       /* p99 counted from each operation's scheduled start when
	                            paced: a stall then also counts the operations it held back */
	long max_us;
	long over_1ms;           /* operations that took 1 ms or more: how many a move
	                            disturbed, whatever its length (p99 is a share of
	                            the operations, so a shorter move counts more) */
	double seconds;          /* how long the loop ran */
	char first_error[256];   /* "" when errors == 0 */
};

/* Forks a child that loops over keys 0..nkeys-1 of prefix: GET (the value
 * must be tc_value_for(prefix, i)), then SET of that same value, so that
 * tc_verify_keys still holds afterwards. Seeds are every node of tc; paced
 * at TRAFFIC_DEFAULT_RATE ops/s; stops after TRAFFIC_DEFAULT_SECONDS at the
 * latest. Returns once the child has read the slot map; aborts the test when
 * it cannot. The caller must traffic_stop it. */
struct traffic *traffic_start(const struct test_cluster *tc, const char *prefix, int nkeys);

/* Like traffic_start with each operation bounded by op_timeout_ms (0:
 * 2000) instead: a client that waits out, say, a manual failover's pause of
 * its master's writes. */
struct traffic *traffic_start_patient(const struct test_cluster *tc, const char *prefix, int nkeys,
	int op_timeout_ms);

/* Like traffic_start with every option spelled out. Returns NULL and writes
 * why into errbuf on failure (no Check dependency: usable by a bench tool). */
struct traffic *traffic_start_opts(const struct traffic_opts *o, char *errbuf, int errsize);

/* Operations finished so far (a live count read from the child). */
long traffic_ops(const struct traffic *t);

/* Errors counted so far (a live count read from the child). */
long traffic_errors(const struct traffic *t);

/* Waits (bounded by timeout_ms) until the child has finished at least n
 * more operations than when called; returns false on timeout. */
bool traffic_wait_ops(const struct traffic *t, long n, int timeout_ms);

/* Tells the child to stop, waits for it (killing it after 10 s), fills *out
 * (NULL is fine) and frees t. A child that had to be killed, or died on its
 * own, counts as one more error. */
void traffic_stop(struct traffic *t, struct traffic_stats *out);

#endif
