/* support.h: what integration tests share: throwaway clusters of real
 * redis-server processes on 127.0.0.1 (ephemeral ports, temp dirs, stopped by
 * PID, built on the sandbox library), known keys loaded and verified, and
 * running the slotctl binary with a bound on its time. Failures abort the
 * current Check test with a message. */
#ifndef SLOTCTL_TEST_SUPPORT_H
#define SLOTCTL_TEST_SUPPORT_H

#include <check.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <string.h>
#include <sys/types.h>
#include "slotctl/io/conn.h"
#include "slotctl/core/info_text.h"

struct test_cluster;

/* The server binary the tests run: $SLOTCTL_REDIS_SERVER (a valkey-server,
 * say; `meson test --setup valkey` sets it) or "redis-server" from PATH. The
 * sandbox reads the same variable, so tc_start and `slotctl sandbox up` run
 * it too; a test that starts a server itself passes this to execvp. */
const char *tc_server_binary(void);

/* Starts masters + masters*replicas nodes on free loopback ports in a fresh
 * temp dir, slots spread evenly over the masters, and waits until every node
 * says cluster_state:ok and all agree. Aborts the test on failure. */
struct test_cluster *tc_start(int masters, int replicas);
/* The same with another server binary (server: a path, e.g. a valkey-server;
 * NULL: redis-server from PATH). */
struct test_cluster *tc_start_server(const char *server, int masters, int replicas);
/* The valkey-server the atomic-migration tests run on: $SLOTCTL_VALKEY_SERVER,
 * else $SLOTCTL_REDIS_SERVER when it names a valkey-server, else NULL (those
 * tests then skip). */
const char *tc_valkey_server(void);

/* Creates a fresh directory "slotctl-test-XXXXXX" under the run's
 * SLOTCTL_TEST_TMP (see check_run.h; else /tmp) into buf (64 bytes are
 * enough) and removes it with everything in it when the process that
 * created it exits; after a failed assertion (Check's _exit) it goes with
 * the run's directory at the end of the run. Aborts the test on failure. */
void tc_temp_dir(char *buf, size_t size);

/* Takes on the sandbox a `slotctl sandbox up --dir DIR` started, so its
 * nodes can be inspected and verified like tc_start's. tc_stop then stops it
 * (by its recorded PIDs) and removes its files; a test that ends without
 * tc_stop (a failed assertion's _exit, a crash, a timeout) has them stopped
 * and removed all the same, by a watchdog process tc_attach forks. Aborts
 * the test when DIR holds no sandbox. */
struct test_cluster *tc_attach(const char *dir);

/* Stops every process the cluster started (SIGCONT first, then SIGKILL after
 * a grace period) and removes its dir. NULL is fine. */
void tc_stop(struct test_cluster *tc);

int tc_count(const struct test_cluster *tc);          /* nodes, masters first */
int tc_port(const struct test_cluster *tc, int i);
pid_t tc_pid(const struct test_cluster *tc, int i);
const char *tc_id(const struct test_cluster *tc, int i); /* 40-char node id */
bool tc_is_master(const struct test_cluster *tc, int i);
const char *tc_seed(const struct test_cluster *tc);   /* "127.0.0.1:<port of node 0>" */
int tc_replica_of(const struct test_cluster *tc, int master); /* its first replica as started, or -1 */
const char *tc_dir(const struct test_cluster *tc);

/* The options to connect to tc's nodes with slotctl's transport: timeouts
 * of timeout_ms (0: 2000), and TLS for a TLS sandbox. The traffic client
 * uses them, and tc_command with a wider bound on each whole reply (10 s). */
struct conn_opts tc_conn_opts(const struct test_cluster *tc, int timeout_ms);

/* A fresh plaintext hiredis connection to node i (2 s timeouts; caller frees). */
redisContext *tc_connect(const struct test_cluster *tc, int i);

/* A loopback port that was free a moment ago (the kernel's pick), for a test
 * that needs a port nothing listens on or starts its own server. Aborts the
 * test when no socket can be bound. */
int tc_free_port(void);

/* Records pid as node i's process after the test restarted that node (so
 * verification sees it and tc_stop stops it) and drops the cached
 * connection to it. */
void tc_adopt(const struct test_cluster *tc, int i, pid_t pid);

/* Runs one command on node i and returns the reply (caller frees); aborts the
 * test on I/O failure. Error replies are returned, not aborted on. */
redisReply *tc_command(const struct test_cluster *tc, int i, const char *fmt, ...);

/* MIGRATEs up to n keys of slot (all when n < 0) from node `from` to node
 * `to`, one key per MIGRATE, failing the test on any error reply; returns
 * how many keys went. The slot's open marks are the caller's business. */
int tc_migrate_keys(const struct test_cluster *tc, int slot, int from, int to, int n);

/* The index of the master that node i's view says owns slot, or -1. */
int tc_owner_of(const struct test_cluster *tc, int view_node, int slot);

/* The same for every slot at once, from one CLUSTER SLOTS (owner has
 * 16384 entries). */
void tc_owners(const struct test_cluster *tc, int view_node, int *owner);

/* Loads n string keys "<prefix>:<i>" with deterministic values (each written
 * to the owner of its slot). */
void tc_load_keys(const struct test_cluster *tc, const char *prefix, int n);

/* The server node i runs, from its INFO server (redis-server or
 * valkey-server, and its version). */
void tc_server_version(const struct test_cluster *tc, int i, struct server_version *v);

/* Whether path exists within timeout_ms (polled every 10 ms): for a
 * test-only hold hook's "<go>.held" file, say. */
bool tc_wait_for_file(const char *path, int timeout_ms);

/* The value tc_load_keys writes for key i (static buffer). */
const char *tc_value_for(const char *prefix, int i);

/* Waits (bounded) until every node's view of the slot map agrees and is
 * cluster_state:ok, then checks each of the n keys "<prefix>:<i>" exists
 * exactly once across all masters, on the owner of its slot, with its value,
 * and that masters hold no other keys of that prefix. Aborts the test naming
 * the first key that is wrong. */
void tc_verify_keys(const struct test_cluster *tc, const char *prefix, int n);

/* Whether the file at path holds text (false when it cannot be read): a
 * journal polled for a phase. */
bool tc_file_has(const char *path, const char *text);

/* Waits until every node agrees on the slot map and says cluster_state:ok;
 * returns false when timeout_ms passes first. */
bool tc_wait_converged(const struct test_cluster *tc, int timeout_ms);

struct run_result {
	int status;        /* exit code, or 128+signal when killed */
	char *out;         /* captured stdout (NUL-terminated) */
	char *err;         /* captured stderr */
	double seconds;    /* wall time */
};

/* Runs $SLOTCTL_BIN with the given arguments (NULL-terminated), stdin from
 * /dev/null, killing it after timeout_s. Fills r (free with run_result_free).
 * Returns r->status. */
int run_slotctl(struct run_result *r, int timeout_s, const char *arg, ...);

/* Like run_slotctl with an argv array (NULL-terminated). */
int run_slotctl_argv(struct run_result *r, int timeout_s, const char *const *argv);

void run_result_free(struct run_result *r);

/* Starts $SLOTCTL_BIN with argv (NULL-terminated) in the background, stdin,
 * stdout and stderr on /dev/null. Returns its pid, for run_slotctl_wait. */
pid_t run_slotctl_background(const char *const *argv);

/* Waits for the slotctl started by run_slotctl_background; returns its exit
 * code (128 + signal when killed). */
int run_slotctl_wait(pid_t pid);

/* A witness: a loopback listener that never answers, to show whether a
 * command connected at all (the kernel completes each connection, so a
 * client that connected is counted even if it gave up). Returns its
 * descriptor (close it when done) and sets *port. */
int tc_witness_open(int *port);

/* How many connections reached the witness fd since the last call. */
int tc_witness_connections(int fd);

/* Asserts that the run r (a struct run_result *) exited with want, showing
 * its stdout and stderr when it did not. */
#define ck_assert_exit(r, want) \
	ck_assert_msg((r)->status == (want), "slotctl exited %d, expected %d\nstdout%s:\n%s\nstderr%s:\n%s", \
		(r)->status, (want), tc_cut((r)->out, TC_QUOTE_BYTES), tc_tail((r)->out, TC_QUOTE_BYTES), \
		tc_cut((r)->err, TC_QUOTE_BYTES), tc_tail((r)->err, TC_QUOTE_BYTES))

/* Asserts that haystack contains needle, printing both when it does not. */
#define ck_assert_contains(haystack, needle) \
	ck_assert_msg(strstr((haystack), (needle)) != NULL, "expected '%s' in%s:\n%s", (needle), \
		tc_cut((haystack), 2 * TC_QUOTE_BYTES), tc_tail((haystack), 2 * TC_QUOTE_BYTES))

/* What the assertions above quote of an output: its last TC_QUOTE_BYTES
 * bytes. Check's whole message is bounded (4 KiB unless CK_MAX_MSG_SIZE
 * says otherwise); a longer one ends the test with "Message string too
 * long" and no word of what failed. */
#define TC_QUOTE_BYTES 1500

/* The last n bytes of s, all of it when shorter. */
static inline const char *tc_tail(const char *s, size_t n)
{
	size_t len = s ? strlen(s) : 0;

	return !s ? "(null)" : len > n ? s + len - n : s;
}

/* " (its end)" when tc_tail cuts s, else "". */
static inline const char *tc_cut(const char *s, size_t n)
{
	return s && strlen(s) > n ? " (its end)" : "";
}

#endif
