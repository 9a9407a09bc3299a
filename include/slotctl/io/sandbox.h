/* sandbox.h: throwaway local clusters of redis-server processes on 127.0.0.1,
 * for the README demo, the integration tests and operators rehearsing a plan.
 * A sandbox lives in one directory: a subdirectory per node and a state file
 * (sandbox.json) recording ports, PIDs, ids and roles, so that another
 * process can stop exactly the servers it started. Library code: no printing. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/sandbox.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_SANDBOX_H
#define SLOTCTL_SANDBOX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "slotctl/core/error.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/core/topology.h"
#include "slotctl/io/conn.h"

#define SANDBOX_STATE_FILE "sandbox.json"
/* The state file's version: 2.0 made format_version a string (1 was the
 * number 1, still read). */
#define SANDBOX_FORMAT_VERSION "2.1" /* 2.1: "tls", "tls_auth_clients" */
#define SANDBOX_FORMAT_MAJOR 2
#define SANDBOX_DEFAULT_TIMEOUT_MS 30000
#define SANDBOX_MAX_NODES 512
/* The nodes' cluster-node-timeout unless told otherwise; a node pings every
 * peer it has not heard from for half of it, so a large sandbox (hundreds of
 * nodes) wants a larger one or its bus alone fills the cores */
#define SANDBOX_DEFAULT_NODE_TIMEOUT_MS 5000
/* The server binary a sandbox runs when none is given (e.g. a valkey-server) */
#define SANDBOX_SERVER_ENV "SLOTCTL_REDIS_SERVER"

struct sandbox_node {
	int port;                        /* client port on 127.0.0.1 */
	int cport;                       /* cluster bus port */
	pid_t pid;                       /* 0 when not started */
	char id[SC_NODE_ID_LEN + 1];     /* "" until known */
	int master;                      /* index of its master; -1 for a master */
};

struct sandbox {
	char dir[PATH_MAX];              /* absolute */
	char redis_server[PATH_MAX];     /* absolute path of the binary used */
	int masters;
	int replicas;                    /* per master */
	int empty_masters;               /* masters with no slots, after the replicas */
	int count;                       /* masters * (1 + replicas) + empty_masters */
	struct sandbox_node *nodes;      /* masters first, then replicas, then empty masters */
	bool tls;                        /* TLS-only nodes (port 0, tls-port, tls-cluster, tls-replication) */
	bool tls_auth_clients;           /* ... that want a client certificate (mutual TLS) */
	int node_timeout_ms;             /* the nodes' cluster-node-timeout (not in the state file) */
	int hz;                          /* the nodes' hz; 0: the server's default (not in the state file) */
	/* with tls: the throwaway CA and the client's certificate, in <dir>/tls */
	char tls_cacert[PATH_MAX], tls_cert[PATH_MAX], tls_key[PATH_MAX];
};

struct sandbox_opts {
	const char *dir;                 /* created when missing */
	const char *redis_server;        /* NULL: $SLOTCTL_REDIS_SERVER, else redis-server
	                                  * then valkey-server found in PATH */
	int masters;                     /* >= 1 */
	int replicas;                    /* per master, >= 0 */
	int empty_masters;               /* extra masters joined with no slots (scale-out rehearsal) */
	int base_port;                   /* node i gets base+i, bus base+i+10000; 0: free ephemeral ports */
	int timeout_ms;                  /* bound on forming the cluster; 0: SANDBOX_DEFAULT_TIMEOUT_MS,
	                                  * plus 100 ms a node beyond the 100th */
	int node_timeout_ms;             /* the nodes' cluster-node-timeout; 0: SANDBOX_DEFAULT_NODE_TIMEOUT_MS */
	int hz;                          /* the nodes' hz (their timers per second); 0: the server's default */
	bool die_with_parent;            /* servers get SIGKILL when the calling thread dies (tests) */
	bool tls;                        /* TLS-only nodes, with a throwaway CA made in <dir>/tls */
	bool tls_auth_clients;           /* with tls: nodes want a client certificate (mutual TLS) */
};

/* Starts the servers (each in its own session, in <dir>/node-<i>), forms the
 * cluster (with tls: a throwaway CA, a certificate for 127.0.0.1 that every
 * node serves and one for the client, in <dir>/tls; ADDSLOTSRANGE spread evenly over the masters, SET-CONFIG-EPOCH,
 * MEET, REPLICATE) and waits until every node says cluster_state:ok and all
 * views agree. Writes <dir>/sandbox.json. Returns 0 and *out (caller frees
 * with sandbox_free). On failure stops every server it started and returns
 * -1 with an error naming what failed (port in use, redis-server not found,
 * a node that would not start, a timeout forming the cluster). Refuses a dir
 * whose state file still names running servers. */
int sandbox_up(const struct sandbox_opts *opts, struct sandbox **out, struct sc_error *err);

/* The options to connect to sb's nodes with: the timeouts given and, for a
 * TLS sandbox, TLS with its CA and client certificate (strings borrowed
 * from sb). */
struct conn_opts sandbox_conn_opts(const struct sandbox *sb, int connect_ms, int command_ms);

/* Reads <dir>/sandbox.json into *out (caller frees). Returns -1 with an
 * SC_EXIT_USAGE error when there is no sandbox there or the file is bad. */
int sandbox_open(const char *dir, struct sandbox **out, struct sc_error *err);

/* Stops exactly the recorded processes: for each PID that is still a
 * redis-server on its recorded port (checked in /proc, so a recycled PID is
 * never signalled): SIGCONT and SIGTERM to every node first, then waits for
 * each up to grace_ms, then SIGKILL.
 * Then removes the state file and the node directories. Returns 0, or -1
 * naming a process that would not die. */
int sandbox_down(struct sandbox *sb, int grace_ms, struct sc_error *err);

/* Frees sb. NULL is fine. Does not stop anything. */
void sandbox_free(struct sandbox *sb);

/* True when node i's recorded PID is alive (not a zombie) and is still a
 * redis-server on its recorded port. */
bool sandbox_node_alive(const struct sandbox *sb, int i);

/* Waits up to timeout_ms until every running node (SIGSTOPped ones count
 * and make this time out) says cluster_state:ok, knows every running node,
 * and all their views of the slot map agree. Returns 0, or -1 with an error
 * naming the node that is not there yet and why. */
int sandbox_wait_converged(const struct sandbox *sb, int timeout_ms, struct sc_error *err);

/* Fills owner[slot] with the index (into sb->nodes) of the master that node
 * view's CLUSTER SLOTS says owns slot, or -1. Returns 0 or -1 with an error. */
int sandbox_owner_map(const struct sandbox *sb, int view, int owner[SC_SLOTS], struct sc_error *err);

/* Node i's live cluster_state ("ok", "fail") into buf. Returns 0, or -1 with
 * an error when the node does not answer. */
int sandbox_cluster_state(const struct sandbox *sb, int i, char *buf, size_t size, struct sc_error *err);

/* Node i as the state file records it (port, cport, pid, id, role, master),
 * as a new cJSON object the caller owns, or NULL on OOM. */
struct cJSON *sandbox_node_json(const struct sandbox *sb, int i);

/* Writes n string keys "<prefix>:<i>" (i from 0) with the values of
 * sandbox_value_for, each to the master that node 0 says owns its slot,
 * pipelined. Returns 0 or -1 naming the key and node that refused. */
int sandbox_load_keys(const struct sandbox *sb, const char *prefix, long n, struct sc_error *err);

/* The deterministic value of key "<prefix>:<i>" into buf. */
void sandbox_value_for(const char *prefix, long i, char *buf, size_t size);

/* Adds a few large hashes and lists (MBs each, sizes deterministic from a
 * fixed seed) under keys "skew:{<tag>}:hash|list", so that a few slots hold
 * far more memory than the rest. Returns 0 or -1 with an error. */
int sandbox_load_skewed(const struct sandbox *sb, struct sc_error *err);

#endif
