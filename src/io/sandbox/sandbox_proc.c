/* sandbox_proc.c: the sandbox's processes: finding redis-server, choosing
 * ports, starting one server as a detached child, confirming it is up, and
 * stopping it by PID only after /proc shows it is still that server. */
#include "sandbox_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/info_text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Absolute path without resolving symlinks: redis-server picks its mode
 * (server, check-rdb, sentinel) from the name it is run by. */
static int absolute_path(const char *path, char *out, size_t size)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return snprintf(out, size, "%s", path) < (int)size ? 0 : -1;
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	return snprintf(out, size, "%s/%s", cwd, path) < (int)size ? 0 : -1;
}

/* Writes into out the absolute path of the first name found in PATH. */
static int find_in_path(const char *name, char *out, size_t size)
{
	const char *env = getenv("PATH");
	char candidate[PATH_MAX];

	for (const char *p = env ? env : "/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");

		snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)len, p, name);
		if (len && access(candidate, X_OK) == 0 && absolute_path(candidate, out, size) == 0)
			return 0;
		p += len + (p[len] == ':');
	}
	return -1;
}

int sandbox_find_server(const char *path, char *out, size_t size, struct sc_error *err)
{
	const char *env = getenv(SANDBOX_SERVER_ENV);

	if (!path && env && env[0])
		path = env;
	if (path && strchr(path, '/')) {
		if (access(path, X_OK) < 0)
			return sc_error_set(err, SC_EXIT_USAGE, "redis-server not found: '%s': %s",
				path, strerror(errno));
		if (absolute_path(path, out, size) < 0)
			return sc_error_set(err, SC_EXIT_USAGE, "redis-server path too long: '%s'", path);
		return 0;
	}
	if (path) {
		if (find_in_path(path, out, size) == 0)
			return 0;
		return sc_error_set(err, SC_EXIT_USAGE,
			"redis-server not found: no '%s' in PATH (install it or give --redis-server PATH)", path);
	}
	if (find_in_path("redis-server", out, size) == 0 || find_in_path("valkey-server", out, size) == 0)
		return 0;
	return sc_error_set(err, SC_EXIT_USAGE,
		"redis-server not found: no 'redis-server' nor 'valkey-server' in PATH (install one, "
		"give --redis-server PATH or set " SANDBOX_SERVER_ENV ")");
}

static int bind_loopback(int port, struct sc_error *err)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot create a socket: %s", strerror(errno));
	/* as redis-server does, so a port in TIME_WAIT counts as free */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
		int e = errno;

		close(fd);
		if (port)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "port %d on %s is in use: %s",
				port, SANDBOX_HOST, strerror(e));
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot pick a free port on %s: %s",
			SANDBOX_HOST, strerror(e));
	}
	close(fd);
	return ntohs(addr.sin_port);
}

int sandbox_free_port(struct sc_error *err)
{
	return bind_loopback(0, err);
}

int sandbox_port_available(int port, struct sc_error *err)
{
	return bind_loopback(port, err) < 0 ? -1 : 0;
}

static void node_dir(const struct sandbox *sb, int i, char *buf, size_t size)
{
	snprintf(buf, size, "%s/node-%d", sb->dir, i);
}

/* In the child: detach, redirect, close inherited descriptors, exec. Never
 * returns. */
static void exec_server(const struct sandbox *sb, int i, const char *dir, bool die_with_parent,
	pid_t parent)
{
	const struct sandbox_node *n = &sb->nodes[i];
	char port[16], cport[16], node_timeout[16], hz[16], crt[PATH_MAX + 16], key[PATH_MAX + 16];
	/* a TLS node listens on tls-port alone and speaks TLS on its bus and
	 * to its master; certificate paths only in argv, never a secret */
	const char *tls_args[] = {
		"--port", "0",
		"--tls-port", port,
		"--tls-cluster", "yes",
		"--tls-replication", "yes",
		"--tls-cert-file", crt,
		"--tls-key-file", key,
		"--tls-ca-cert-file", sb->tls_cacert,
		"--tls-auth-clients", sb->tls_auth_clients ? "yes" : "no",
	};
	const char *argv[64] = {
		sb->redis_server,
		"--port", port,
		"--cluster-port", cport,
		"--bind", SANDBOX_HOST,
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", node_timeout,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--repl-diskless-sync-delay", "0",
		"--enable-debug-command", "local",
		"--logfile", "",
		"--dir", dir,
		NULL,
	};
	int fd;

	setsid();
	if (die_with_parent) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
	}
	snprintf(port, sizeof(port), "%d", n->port);
	snprintf(cport, sizeof(cport), "%d", n->cport);
	snprintf(node_timeout, sizeof(node_timeout), "%d",
		sb->node_timeout_ms > 0 ? sb->node_timeout_ms : SANDBOX_DEFAULT_NODE_TIMEOUT_MS);
	snprintf(crt, sizeof(crt), "%s/tls/node.crt", sb->dir);
	snprintf(key, sizeof(key), "%s/tls/node.key", sb->dir);
	snprintf(hz, sizeof(hz), "%d", sb->hz);
	if (sb->tls || sb->hz > 0) {
		int k = 1;

		while (argv[k])
			k++;
		if (sb->hz > 0) {
			argv[k++] = "--hz";
			argv[k++] = hz;
		}
		for (size_t t = 0; sb->tls && t < sizeof(tls_args) / sizeof(tls_args[0]); t++)
			argv[k++] = tls_args[t];
		argv[k] = NULL;
	}
	if (chdir(dir) < 0)
		_exit(127);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	fd = open("redis.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	/* a pipe inherited from whoever ran us must not stay open in the server */
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
		for (int d = 3; d < 1024; d++)
			close(d);
	signal(SIGPIPE, SIG_DFL);
	execv(sb->redis_server, (char *const *)argv);
	_exit(127);
}

int sandbox_spawn(struct sandbox *sb, int i, bool die_with_parent, struct sc_error *err)
{
	char dir[PATH_MAX + 32];
	char path[PATH_MAX + 64];
	pid_t parent = getpid();
	pid_t pid;

	node_dir(sb, i, dir, sizeof(dir));
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot create '%s': %s", dir, strerror(errno));
	/* a fresh node: forget any cluster a previous sandbox left here */
	snprintf(path, sizeof(path), "%s/nodes.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dump.rdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/redis.log", dir);
	unlink(path);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot start redis-server for node %d: fork: %s",
			i, strerror(errno));
	if (pid == 0)
		exec_server(sb, i, dir, die_with_parent, parent);
	sb->nodes[i].pid = pid;
	return 0;
}

/* Puts the last non-empty line of node i's log into buf, for error
 * messages. Returns whether some line says a port could not be bound: redis
 * 7.0 logs "...: bind: Address already in use", then "Failed listening on
 * port N (TCP|cluster), aborting." as its last line. */
static bool log_tail(const struct sandbox *sb, int i, char *buf, size_t size)
{
	char path[PATH_MAX + 64];
	char line[512];
	bool taken = false;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/node-%d/redis.log", sb->dir, i);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		taken = taken || strstr(line, "Address already in use") || strstr(line, "Failed listening on port");
		if (line[0])
			snprintf(buf, size, "%s", line);
	}
	fclose(f);
	return taken;
}

/* True when the server on node i's port answers as the process sb recorded
 * (and not some other server that got the port first). */
static bool answers_as(const struct sandbox *sb, int i)
{
	const struct conn_opts opts = sandbox_conn_opts(sb, 500, 500);
	struct sc_error ignored;
	struct conn *c;
	redisReply *r;
	bool same = false;

	if (conn_open(SANDBOX_HOST, sb->nodes[i].port, &opts, &c, &ignored) < 0)
		return false;
	r = conn_command(c, &ignored, "INFO server");
	if (r && r->type == REDIS_REPLY_STRING)
		same = info_get_ll(r->str, "process_id", -1) == (long long)sb->nodes[i].pid;
	if (r)
		freeReplyObject(r);
	conn_close(c);
	return same;
}

int sandbox_wait_started(struct sandbox *sb, int i, int timeout_ms, bool *port_clash, struct sc_error *err)
{
	struct sandbox_node *n = &sb->nodes[i];
	long long deadline = sc_clock_ms() + timeout_ms;
	char tail[512];
	int status;

	*port_clash = false;
	for (;;) {
		if (answers_as(sb, i))
			return 0;
		if (waitpid(n->pid, &status, WNOHANG) == n->pid) {
			n->pid = 0;
			*port_clash = log_tail(sb, i, tail, sizeof(tail));
			return sc_error_set(err, SC_EXIT_PROBLEMS,
				"redis-server for node %d (port %d, bus port %d) exited at start: %s",
				i, n->port, n->cport, tail[0] ? tail : "no log (see its redis.log)");
		}
		if (sc_clock_ms() > deadline)
			return sc_error_set(err, SC_EXIT_PROBLEMS,
				"redis-server for node %d (pid %ld) does not answer on port %d after %d ms",
				i, (long)n->pid, n->port, timeout_ms);
		sc_sleep_ms(20);
	}
}

/* Reads /proc/<pid>/<name> into buf (NUL bytes turned into spaces).
 * Returns false when it cannot be read. */
static bool read_proc(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	len = fread(buf, 1, size - 1, f);
	fclose(f);
	for (size_t k = 0; k < len; k++)
		if (buf[k] == '\0')
			buf[k] = ' ';
	buf[len] = '\0';
	return true;
}

/* True when the command line names a server: the binary the sandbox runs,
 * or redis-server or valkey-server (what a wrapper script may exec). Both
 * servers set their title to the path they were run by, "PATH 127.0.0.1:PORT
 * [cluster]": Valkey's never says "redis-server". */
static bool names_server(const char *cmdline, const char *binary)
{
	const char *base = strrchr(binary, '/');

	base = base ? base + 1 : binary;
	return (base[0] && strstr(cmdline, base)) || strstr(cmdline, "redis-server") ||
		strstr(cmdline, "valkey-server");
}

/* True when /proc says pid is a live (non-zombie) server of binary serving
 * port: its title reads "<binary> 127.0.0.1:PORT [cluster]", or before the
 * title is set its argv holds "--port PORT". */
static bool is_our_server(pid_t pid, int port, const char *binary)
{
	char buf[4096], want[32];
	const char *paren;

	if (!read_proc(pid, "stat", buf, sizeof(buf)))
		return false;
	paren = strrchr(buf, ')');
	if (!paren || strlen(paren) < 3 || paren[2] == 'Z' || paren[2] == 'X')
		return false;
	if (!read_proc(pid, "cmdline", buf, sizeof(buf)) || !names_server(buf, binary))
		return false;
	snprintf(want, sizeof(want), ":%d", port);
	for (const char *p = strstr(buf, want); p; p = strstr(p + 1, want))
		if (p[strlen(want)] < '0' || p[strlen(want)] > '9')
			return true;
	snprintf(want, sizeof(want), "--port %d ", port);
	return strstr(buf, want) != NULL;
}

bool sandbox_node_alive(const struct sandbox *sb, int i)
{
	const struct sandbox_node *n = &sb->nodes[i];

	if (n->pid <= 0)
		return false;
	/* reap our own child if it died, so it does not linger as a zombie */
	waitpid(n->pid, NULL, WNOHANG);
	return is_our_server(n->pid, n->port, sb->redis_server);
}

static bool wait_gone(struct sandbox *sb, int i, int ms)
{
	long long deadline = sc_clock_ms() + ms;

	while (sandbox_node_alive(sb, i)) {
		if (sc_clock_ms() >= deadline)
			return false;
		sc_sleep_ms(10);
	}
	return true;
}

void sandbox_ask_stop(struct sandbox *sb, int i)
{
	if (sandbox_node_alive(sb, i)) {
		kill(sb->nodes[i].pid, SIGCONT);
		kill(sb->nodes[i].pid, SIGTERM);
	}
}

int sandbox_stop_node(struct sandbox *sb, int i, int grace_ms, struct sc_error *err)
{
	struct sandbox_node *n = &sb->nodes[i];

	if (!sandbox_node_alive(sb, i)) {
		n->pid = 0;
		return 0;
	}
	kill(n->pid, SIGCONT);
	kill(n->pid, SIGTERM);
	if (!wait_gone(sb, i, grace_ms)) {
		kill(n->pid, SIGKILL);
		if (!wait_gone(sb, i, 5000))
			return sc_error_set(err, SC_EXIT_PROBLEMS,
				"redis-server for node %d (pid %ld, port %d) does not die after SIGKILL",
				i, (long)n->pid, n->port);
	}
	n->pid = 0;
	return 0;
}
