/* sandbox_priv.h: what the sandbox's files share privately: processes
 * (sandbox_proc.c), the state file (sandbox_state.c), talking to nodes and
 * forming the cluster (sandbox_form.c). Not installed, not for other modules. */
#ifndef SLOTCTL_SANDBOX_PRIV_H
#define SLOTCTL_SANDBOX_PRIV_H

#include "slotctl/io/clock.h"
#include "slotctl/io/conn.h"
#include "slotctl/io/sandbox.h"

#define SANDBOX_HOST "127.0.0.1"
#define SANDBOX_IO_TIMEOUT_MS 5000

/* -- processes (sandbox_proc.c) */

/* Finds the server binary (path, a name looked up in PATH when it has no
 * slash; when NULL: $SLOTCTL_REDIS_SERVER, else redis-server, else
 * valkey-server in PATH) and writes its absolute path into out. */
int sandbox_find_server(const char *path, char *out, size_t size, struct sc_error *err);

/* Picks a free loopback port by binding port 0. Returns the port or -1. */
int sandbox_free_port(struct sc_error *err);

/* Returns 0 when port can be bound on 127.0.0.1 now, else -1 with an error. */
int sandbox_port_available(int port, struct sc_error *err);

/* Starts node i of sb (ports already chosen) in <dir>/node-<i> and records
 * its PID. Returns 0, or -1 when fork or the directory fails. */
int sandbox_spawn(struct sandbox *sb, int i, bool die_with_parent, struct sc_error *err);

/* Waits until node i answers PING as the process sb recorded, or until it
 * exits or timeout_ms passes. Returns 0; -1 with *port_clash set when the
 * server exited because its port was taken; -1 otherwise. */
int sandbox_wait_started(struct sandbox *sb, int i, int timeout_ms, bool *port_clash, struct sc_error *err);

/* Sends SIGTERM (and SIGCONT) to node i's process if it is still the
 * recorded redis-server, without waiting: a server notices it only at its
 * next timer tick (up to a second with hz 1), so a sandbox asks every node
 * first and then waits for each. */
void sandbox_ask_stop(struct sandbox *sb, int i);

/* Stops node i's process if it is still the recorded redis-server (see
 * sandbox_down). Returns 0, or -1 when it would not die. */
int sandbox_stop_node(struct sandbox *sb, int i, int grace_ms, struct sc_error *err);

/* -- state file (sandbox_state.c) */

int sandbox_state_write(const struct sandbox *sb, struct sc_error *err);
int sandbox_state_read(const char *dir, struct sandbox *sb, struct sc_error *err);

/* -- talking to nodes and forming the cluster (sandbox_form.c) */

/* A connection to node i (caller closes with conn_close), bounded by
 * SANDBOX_IO_TIMEOUT_MS (plus 50 ms a node beyond the 100th). */
struct conn *sandbox_connect(const struct sandbox *sb, int i, struct sc_error *err);

/* Returns r when it is a non-error reply; otherwise frees it and returns
 * NULL with an error naming the node and what it refused or did not answer. */
redisReply *sandbox_checked(struct conn *c, redisReply *r, const char *what, struct sc_error *err);

/* Assigns slots, epochs, meets, replicates and waits for convergence. */
int sandbox_form(struct sandbox *sb, int timeout_ms, struct sc_error *err);

#endif
