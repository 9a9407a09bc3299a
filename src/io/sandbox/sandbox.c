/* sandbox.c: a sandbox's life: `up` (choose ports, start the servers, form
 * the cluster, record the state), `open` from another process, and `down`
 * (stop exactly the recorded servers, remove their files). See
 * slotctl/io/sandbox.h. */
#define _XOPEN_SOURCE 700
#include "sandbox_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"
#include "slotctl/io/tls_certs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define START_TIMEOUT_MS 10000
#define PORT_ATTEMPTS 8

void sandbox_free(struct sandbox *sb)
{
	if (!sb)
		return;
	free(sb->nodes);
	free(sb);
}

static int make_dirs(const char *path, struct sc_error *err)
{
	char buf[PATH_MAX];

	if (strlen(path) >= sizeof(buf))
		return sc_error_set(err, SC_EXIT_USAGE, "directory name too long: '%s'", path);
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot create '%s': %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot create '%s': %s", buf, strerror(errno));
	return 0;
}

/* Where a TLS sandbox keeps its certificates: <dir>/tls/<name>.<ext>. */
static void tls_path(const struct sandbox *sb, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/tls/%s", sb->dir, name);
}

static void tls_paths(struct sandbox *sb)
{
	tls_path(sb, "ca.crt", sb->tls_cacert, sizeof(sb->tls_cacert));
	tls_path(sb, "client.crt", sb->tls_cert, sizeof(sb->tls_cert));
	tls_path(sb, "client.key", sb->tls_key, sizeof(sb->tls_key));
}

struct conn_opts sandbox_conn_opts(const struct sandbox *sb, int connect_ms, int command_ms)
{
	struct conn_opts o = { .connect_timeout_ms = connect_ms, .command_timeout_ms = command_ms };

	if (sb->tls)
		o.tls = (struct conn_tls_opts){ .enabled = true, .cacert = sb->tls_cacert, .cert = sb->tls_cert,
			.key = sb->tls_key };
	return o;
}

/* A TLS sandbox's throwaway CA and certificates: one for the nodes (every
 * node serves it: they all listen on 127.0.0.1) and one for clients. */
static int make_certs(struct sandbox *sb, struct sc_error *err)
{
	static const char *const names[] = { SANDBOX_HOST, "localhost", NULL };
	char dir[PATH_MAX];

	tls_path(sb, "", dir, sizeof(dir));
	if (make_dirs(dir, err) < 0 || tls_certs_make_ca(dir, "ca", err) < 0 ||
	    tls_certs_make(dir, "ca", "node", names, -3600, 365L * 86400, err) < 0 ||
	    tls_certs_make(dir, "ca", "client", NULL, -3600, 365L * 86400, err) < 0)
		return sc_error_prefix(err, "cannot make the sandbox's certificates");
	tls_paths(sb);
	return 0;
}

int sandbox_open(const char *dir, struct sandbox **out, struct sc_error *err)
{
	struct sandbox *sb = calloc(1, sizeof(*sb));

	if (!sb)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	if (!realpath(dir, sb->dir)) {
		free(sb);
		return sc_error_set(err, SC_EXIT_USAGE, "no sandbox in '%s': %s", dir, strerror(errno));
	}
	if (sandbox_state_read(sb->dir, sb, err) < 0) {
		free(sb);
		return -1;
	}
	tls_paths(sb);
	*out = sb;
	return 0;
}

/* Refuses a dir whose state file names servers that still run. */
static int check_dir_free(const char *dir, struct sc_error *err)
{
	struct sandbox *old;
	struct sc_error ignored;
	int running = 0;

	if (sandbox_open(dir, &old, &ignored) < 0)
		return 0;
	for (int i = 0; i < old->count; i++)
		running += sandbox_node_alive(old, i);
	sandbox_free(old);
	if (running)
		return sc_error_set(err, SC_EXIT_REFUSED,
			"'%s' already holds a running sandbox (%d servers); stop it with 'slotctl sandbox down --dir %s'",
			dir, running, dir);
	return 0;
}

static bool port_taken(const struct sandbox *sb, int upto, int port)
{
	for (int k = 0; k < upto; k++)
		if (sb->nodes[k].port == port || sb->nodes[k].cport == port)
			return true;
	return false;
}

/* Chooses node i's ports: base-relative, or two fresh ephemeral ones that no
 * other node of sb uses. */
static int choose_ports(struct sandbox *sb, int i, int base_port, struct sc_error *err)
{
	struct sandbox_node *n = &sb->nodes[i];

	if (base_port) {
		n->port = base_port + i;
		n->cport = n->port + 10000;
		if (sandbox_port_available(n->port, err) < 0 || sandbox_port_available(n->cport, err) < 0)
			return sc_error_prefix(err, "cannot start node %d", i);
		return 0;
	}
	do {
		if ((n->port = sandbox_free_port(err)) < 0)
			return -1;
	} while (port_taken(sb, i, n->port));
	do {
		if ((n->cport = sandbox_free_port(err)) < 0)
			return -1;
	} while (n->cport == n->port || port_taken(sb, i, n->cport));
	return 0;
}

/* Starts every node and waits until each answers; an ephemeral port lost to
 * another process between choosing and binding is chosen again. */
static int start_nodes(struct sandbox *sb, const struct sandbox_opts *o, struct sc_error *err)
{
	for (int i = 0; i < sb->count; i++)
		if (choose_ports(sb, i, o->base_port, err) < 0)
			return -1;
	for (int i = 0; i < sb->count; i++)
		if (sandbox_spawn(sb, i, o->die_with_parent, err) < 0)
			return -1;
	if (sandbox_state_write(sb, err) < 0)
		return -1;
	for (int i = 0; i < sb->count; i++) {
		for (int attempt = 1;; attempt++) {
			bool clash;

			if (sandbox_wait_started(sb, i, START_TIMEOUT_MS, &clash, err) == 0)
				break;
			if (!clash || o->base_port || attempt >= PORT_ATTEMPTS)
				return -1;
			if (choose_ports(sb, i, 0, err) < 0 || sandbox_spawn(sb, i, o->die_with_parent, err) < 0)
				return -1;
		}
	}
	return sandbox_state_write(sb, err);
}

static int check_opts(const struct sandbox_opts *o, struct sc_error *err)
{
	int count = o->masters * (1 + o->replicas) + o->empty_masters;

	if (o->masters < 1 || o->replicas < 0 || o->empty_masters < 0 || count > SANDBOX_MAX_NODES)
		return sc_error_set(err, SC_EXIT_USAGE, "a sandbox has 1 to %d nodes, not %d masters with %d replicas each",
			SANDBOX_MAX_NODES, o->masters, o->replicas);
	if (o->base_port && (o->base_port < 1 || o->base_port + count - 1 + 10000 > 65535))
		return sc_error_set(err, SC_EXIT_USAGE,
			"--port %d leaves no room for %d nodes and their bus ports (port + 10000)", o->base_port, count);
	return 0;
}

static struct sandbox *sandbox_new(const struct sandbox_opts *o, struct sc_error *err)
{
	struct sandbox *sb = calloc(1, sizeof(*sb));

	if (!sb || check_opts(o, err) < 0 ||
	    sandbox_find_server(o->redis_server, sb->redis_server, sizeof(sb->redis_server), err) < 0 ||
	    make_dirs(o->dir, err) < 0)
		goto fail;
	if (!realpath(o->dir, sb->dir)) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "cannot use '%s': %s", o->dir, strerror(errno));
		goto fail;
	}
	sb->masters = o->masters;
	sb->replicas = o->replicas;
	sb->empty_masters = o->empty_masters;
	sb->tls = o->tls;
	sb->tls_auth_clients = o->tls && o->tls_auth_clients;
	sb->node_timeout_ms = o->node_timeout_ms > 0 ? o->node_timeout_ms : SANDBOX_DEFAULT_NODE_TIMEOUT_MS;
	sb->hz = o->hz;
	if (sb->tls && make_certs(sb, err) < 0)
		goto fail;
	sb->count = o->masters * (1 + o->replicas) + o->empty_masters;
	sb->nodes = calloc((size_t)sb->count, sizeof(*sb->nodes));
	if (!sb->nodes) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		goto fail;
	}
	for (int i = 0; i < sb->count; i++)
		sb->nodes[i].master = i < sb->masters || i >= sb->count - sb->empty_masters ? -1 :
			(i - sb->masters) % sb->masters;
	return sb;
fail:
	if (!sb)
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	sandbox_free(sb);
	return NULL;
}

/* The bound on forming: the one given, else the default plus 100 ms a node
 * beyond the 100th (every node's view is read until all agree, and a node
 * learns the others by gossip) */
static int form_timeout_ms(const struct sandbox_opts *o, int count)
{
	if (o->timeout_ms > 0)
		return o->timeout_ms;
	return SANDBOX_DEFAULT_TIMEOUT_MS + (count > 100 ? (count - 100) * 100 : 0);
}

int sandbox_up(const struct sandbox_opts *opts, struct sandbox **out, struct sc_error *err)
{
	struct sandbox *sb;
	struct sc_error ignored;

	if (check_dir_free(opts->dir, err) < 0)
		return -1;
	sb = sandbox_new(opts, err);
	if (!sb)
		return -1;
	if (start_nodes(sb, opts, err) < 0 || sandbox_form(sb, form_timeout_ms(opts, sb->count), err) < 0 ||
	    sandbox_state_write(sb, err) < 0) {
		sandbox_down(sb, 1000, &ignored);
		sandbox_free(sb);
		return -1;
	}
	*out = sb;
	return 0;
}

/* Removes the state file, the node directories and, when it is then empty,
 * the sandbox directory itself. */
static void remove_files(const struct sandbox *sb)
{
	char path[PATH_MAX + 32];

	for (int i = 0; i < sb->count; i++) {
		snprintf(path, sizeof(path), "%s/node-%d", sb->dir, i);
		file_remove_tree(path);
	}
	snprintf(path, sizeof(path), "%s/tls", sb->dir);
	file_remove_tree(path);
	snprintf(path, sizeof(path), "%s/%s", sb->dir, SANDBOX_STATE_FILE);
	unlink(path);
	rmdir(sb->dir);
}

int sandbox_down(struct sandbox *sb, int grace_ms, struct sc_error *err)
{
	int rc = 0;

	for (int i = 0; i < sb->count; i++)
		sandbox_ask_stop(sb, i);
	for (int i = 0; i < sb->count; i++)
		if (sandbox_stop_node(sb, i, grace_ms, rc == 0 ? err : NULL) < 0)
			rc = -1;
	if (rc == 0)
		remove_files(sb);
	return rc;
}
