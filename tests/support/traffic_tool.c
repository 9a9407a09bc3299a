/* traffic_tool.c: slotctl-traffic, the traffic client of traffic.h as a
 * standalone program for the bench/ scripts (not a test, not installed): it
 * loads its keys into a sandbox if asked, runs until SIGINT/SIGTERM or its
 * time is up, and prints its stats as one JSON line. Exit 0 when it saw no
 * error, 1 when it did, 2 on bad usage or setup. */
#include "traffic.h"
#include "slotctl/io/sandbox.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: slotctl-traffic --dir SANDBOX [--prefix P] [--keys N] [--load] "
		"[--rate OPS] [--seconds S] [--read-only]\n");
	return 2;
}

/* Parses argv into o, *dir and *load; returns -1 on a bad argument. */
static int parse(int argc, char **argv, struct traffic_opts *o, const char **dir, bool *load)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--load") == 0)
			*load = true;
		else if (strcmp(a, "--read-only") == 0)
			o->read_only = true;
		else if (!v)
			return -1;
		else if (strcmp(a, "--dir") == 0)
			*dir = v, i++;
		else if (strcmp(a, "--prefix") == 0)
			o->prefix = v, i++;
		else if (strcmp(a, "--keys") == 0)
			o->nkeys = atoi(v), i++;
		else if (strcmp(a, "--rate") == 0)
			o->ops_per_sec = atoi(v), i++;
		else if (strcmp(a, "--seconds") == 0)
			o->max_seconds = atoi(v), i++;
		else
			return -1;
	}
	return *dir && o->nkeys > 0 ? 0 : -1;
}

static void print_json(const struct traffic_stats *st)
{
	printf("{\"ops\": %ld, \"errors\": %ld, \"moved\": %ld, \"ask\": %ld, \"tryagain\": %ld, "
		"\"p50_us\": %ld, \"p99_us\": %ld, \"p99_sched_us\": %ld, \"max_us\": %ld, \"over_1ms\": %ld, "
		"\"seconds\": %.3f, \"first_error\": \"",
		st->ops, st->errors, st->moved, st->ask, st->tryagain, st->p50_us, st->p99_us, st->p99_sched_us, st->max_us,
		st->over_1ms, st->seconds);
	for (const char *p = st->first_error; *p; p++)
		printf(*p == '"' || *p == '\\' ? "\\%c" : (unsigned char)*p < 32 ? "?" : "%c", *p);
	printf("\"}\n");
}

int main(int argc, char **argv)
{
	struct traffic_opts o = { .prefix = "traffic", .nkeys = 2000, .ops_per_sec = 0, .max_seconds = 600 };
	struct traffic_stats st;
	struct sandbox *sb;
	struct sc_error err;
	struct traffic *t;
	const char *dir = NULL;
	bool load = false;
	char msg[300];

	if (parse(argc, argv, &o, &dir, &load) < 0)
		return usage();
	if (sandbox_open(dir, &sb, &err) < 0) {
		fprintf(stderr, "slotctl-traffic: %s\n", err.msg);
		return 2;
	}
	for (int i = 0; i < sb->count && i < TRAFFIC_MAX_SEEDS; i++)
		o.ports[o.nports++] = sb->nodes[i].port;
	if (load && sandbox_load_keys(sb, o.prefix, o.nkeys, &err) < 0) {
		fprintf(stderr, "slotctl-traffic: %s\n", err.msg);
		sandbox_free(sb);
		return 2;
	}
	sandbox_free(sb);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t = traffic_start_opts(&o, msg, sizeof(msg));
	if (!t) {
		fprintf(stderr, "slotctl-traffic: %s\n", msg);
		return 2;
	}
	for (long waited = 0; !stop_requested && waited < (long)o.max_seconds * 1000; waited += 20)
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	traffic_stop(t, &st);
	print_json(&st);
	return st.errors ? 1 : 0;
}
