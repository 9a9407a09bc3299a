/* args.c: parses a subcommand's options from its declarative table
 * (struct cmd_option) with getopt_long, and turns the shared connection
 * options into struct conn_opts. */
#include "slotctl/cli/cli.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/suggest.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int option_count(const struct cmd_entry *cmd)
{
	int n = 0;

	while (cmd->options && cmd->options[n].name)
		n++;
	return n;
}

static int option_index(const struct cmd_entry *cmd, const char *name)
{
	for (int i = 0; cmd->options && cmd->options[i].name; i++)
		if (strcmp(cmd->options[i].name, name) == 0)
			return i;
	return -1;
}

static void build_short_options(const struct cmd_entry *cmd, char *buf, size_t size)
{
	size_t len = 0;

	buf[len++] = '+'; /* stop at "--"; positionals may still be permuted below */
	buf[len++] = ':';
	for (int i = 0; cmd->options && cmd->options[i].name && len + 4 < size; i++) {
		const struct cmd_option *o = &cmd->options[i];

		if (!o->short_name)
			continue;
		buf[len++] = o->short_name;
		if (o->arg != OPT_FLAG)
			buf[len++] = ':';
	}
	buf[len++] = 'h';
	buf[len] = '\0';
}

static int store_value(struct cmd_args *out, int idx, const char *value)
{
	const struct cmd_option *o = &out->cmd->options[idx];

	if (o->arg != OPT_FLAG && out->count[idx] >= CMD_MAX_VALUES) {
		cli_usage_error(out->cmd->name, "too many --%s options (at most %d)", o->name, CMD_MAX_VALUES);
		return -1;
	}
	/* every occurrence is kept (a value option reads as its last), so that
	 * cmd_args_hide_secrets finds each copy of a secret in argv */
	if (o->arg != OPT_FLAG)
		out->values[idx][out->count[idx]] = value;
	out->count[idx]++;
	return 0;
}

/* getopt_long's table: cmd's options (val 256 + their index), then --help. */
static void build_long_options(const struct cmd_entry *cmd, int n, struct option *longopts)
{
	for (int i = 0; i < n; i++) {
		longopts[i].name = cmd->options[i].name;
		longopts[i].has_arg = cmd->options[i].arg == OPT_FLAG ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + i;
	}
	longopts[n] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n + 1] = (struct option){ 0, 0, 0, 0 };
}

/* Reports getopt_long's '?' (unknown option) or ':' (missing value) for arg,
 * the word it just read. */
static void report_bad_option(const struct cmd_entry *cmd, int c, const char *arg)
{
	if (c == ':')
		cli_usage_error(cmd->name, "option '%s' needs a value", arg);
	else if (optopt && optopt < 256)
		cli_usage_error(cmd->name, "unknown option '-%c'", optopt);
	else if (strncmp(arg, "--", 2) == 0 && strchr(arg, '='))
		cli_usage_error(cmd->name, "option '%.*s' takes no value", (int)strcspn(arg, "="), arg);
	else
		cli_usage_error(cmd->name, "unknown option '%s'", arg);
}

/* Long options are never abbreviated (getopt_long would take "--max" for
 * the one option it begins, and a later option could make it ambiguous, so
 * a script that worked would break): word ("--name" or "--name=value") must
 * name an option of cmd, or --help, exactly. Otherwise reports it with the
 * options it was probably meant to be and returns -1. */
static int check_long_name(const struct cmd_entry *cmd, int n, const char *word)
{
	const char *names[CMD_MAX_OPTIONS + 1], *near[8];
	char name[SUGGEST_WORD_MAX + 1], list[512];
	size_t len = strcspn(word + 2, "=");
	bool prefix;
	int k;

	for (int i = 0; i < n; i++)
		names[i] = cmd->options[i].name;
	names[n] = "help";
	for (int i = 0; i <= n; i++)
		if (strlen(names[i]) == len && strncmp(names[i], word + 2, len) == 0)
			return 0;
	snprintf(name, sizeof(name), "%.*s", (int)len, word + 2);
	k = suggest_words(name, names, n + 1, near, 8, &prefix);
	suggest_format(near, k, "--", list, sizeof(list));
	if (k > 1 && prefix)
		cli_usage_error(cmd->name, "option '--%s' is ambiguous (options are not abbreviated): "
			"did you mean %s?", name, list);
	else if (k > 0)
		cli_usage_error(cmd->name, "unknown option '--%s'%s; did you mean %s?", name,
			prefix ? " (options are not abbreviated)" : "", list);
	else
		cli_usage_error(cmd->name, "unknown option '--%s'", name);
	return -1;
}

/* The table index of the option getopt_long returned as c (a short letter, or
 * 256 + index for a long name). */
static int option_of(const struct cmd_entry *cmd, int n, int c)
{
	if (c >= 256)
		return c - 256;
	for (int i = 0; i < n; i++)
		if (cmd->options[i].short_name == c)
			return i;
	return -1;
}

/* Checks the number of positional arguments against the table's bounds. */
static int check_arg_count(const struct cmd_entry *cmd, const struct cmd_args *out)
{
	if (out->argc < cmd->min_args) {
		cli_usage_error(cmd->name, "missing argument (usage: slotctl %s %s)", cmd->name, cmd->synopsis);
		return -1;
	}
	if (cmd->max_args >= 0 && out->argc > cmd->max_args) {
		cli_usage_error(cmd->name, "unexpected argument '%s' (usage: slotctl %s %s)",
			out->argv[cmd->max_args], cmd->name, cmd->synopsis);
		return -1;
	}
	return 0;
}

int cmd_args_parse(const struct cmd_entry *cmd, int argc, char **argv, struct cmd_args *out)
{
	struct option longopts[CMD_MAX_OPTIONS + 2];
	char shortopts[2 * CMD_MAX_OPTIONS + 4];
	int n = option_count(cmd);

	memset(out, 0, sizeof(*out));
	out->cmd = cmd;
	build_long_options(cmd, n, longopts);
	build_short_options(cmd, shortopts, sizeof(shortopts));

	/* argv[0] is the command name; positionals are collected in place. */
	out->argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!out->argv) {
		cli_error("out of memory");
		return -1;
	}
	optind = 1;
	opterr = 0;
	while (optind < argc) {
		int c;

		if (argv[optind][0] != '-' || strcmp(argv[optind], "-") == 0) {
			out->argv[out->argc++] = argv[optind++];
			continue;
		}
		if (strcmp(argv[optind], "--") == 0) {
			for (optind++; optind < argc; optind++)
				out->argv[out->argc++] = argv[optind];
			break;
		}
		if (strncmp(argv[optind], "--", 2) == 0 && check_long_name(cmd, n, argv[optind]) < 0)
			return -1;
		c = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (c == -1)
			continue;
		if (c == 'h') {
			cmd_print_help(cmd, stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			report_bad_option(cmd, c, argv[optind - 1]);
			return -1;
		}
		if (store_value(out, option_of(cmd, n, c), optarg) < 0)
			return -1;
	}
	return check_arg_count(cmd, out);
}

static int must_index(const struct cmd_args *a, const char *name)
{
	int idx = option_index(a->cmd, name);

	if (idx < 0) {
		/* a programming error: the handler asked for an option its table lacks */
		fprintf(stderr, "slotctl: internal error: '%s' has no option --%s\n", a->cmd->name, name);
		abort();
	}
	return idx;
}

bool args_flag(const struct cmd_args *a, const char *name)
{
	return a->count[must_index(a, name)] > 0;
}

const char *args_value(const struct cmd_args *a, const char *name)
{
	int idx = must_index(a, name);

	if (a->count[idx] == 0)
		return NULL;
	return a->values[idx][a->count[idx] - 1];
}

int cmd_args_hide_secrets(struct cmd_args *a)
{
	int idx = option_index(a->cmd, "pass");

	if (idx < 0 || a->count[idx] == 0)
		return 0;
	a->secret = strdup(a->values[idx][a->count[idx] - 1]);
	if (!a->secret) {
		cli_error("out of memory");
		return -1;
	}
	for (int k = 0; k < a->count[idx]; k++) {
		memset((char *)a->values[idx][k], 'x', strlen(a->values[idx][k]));
		a->values[idx][k] = a->secret;
	}
	return 0;
}

int args_list(const struct cmd_args *a, const char *name, const char *const **values)
{
	int idx = must_index(a, name);

	*values = a->values[idx];
	return a->count[idx];
}

int args_int(const struct cmd_args *a, const char *name, long long min, long long max,
	long long def, long long *out)
{
	const char *text = args_value(a, name);
	char *end;
	long long v;

	if (!text) {
		*out = def;
		return 0;
	}
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max) {
		cli_error("--%s: '%s' is not a whole number from %lld to %lld", name, text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int args_double(const struct cmd_args *a, const char *name, double min, double max, double def,
	double *out)
{
	const char *text = args_value(a, name);
	char *end;
	double v;

	if (!text) {
		*out = def;
		return 0;
	}
	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !(v >= min && v <= max)) {
		cli_error("--%s: '%s' is not a number from %g to %g", name, text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int args_ms_as_us(const struct cmd_args *a, const char *name, long long min_us, long long max_us,
	long long def_us, long long *out_us)
{
	double ms;

	if (args_double(a, name, (double)min_us / 1000, (double)max_us / 1000, (double)def_us / 1000, &ms) != 0)
		return -1;
	*out_us = (long long)(ms * 1000 + 0.5);
	return 0;
}

/* The TLS options; without --tls, any other of them is a usage error (it
 * would be silently ignored). */
static int args_tls_opts(const struct cmd_args *a, struct conn_tls_opts *out)
{
	static const char *const needs_tls[] = { "cacert", "cacertdir", "cert", "key", "sni", "insecure", NULL };
	struct sc_error err = { 0 };

	*out = (struct conn_tls_opts){ .enabled = args_flag(a, "tls") };
	for (int i = 0; !out->enabled && needs_tls[i]; i++)
		if (a->count[must_index(a, needs_tls[i])] > 0) {
			cli_usage_error(a->cmd->name, "--%s needs --tls", needs_tls[i]);
			return -1;
		}
	out->cacert = args_value(a, "cacert");
	out->cacertdir = args_value(a, "cacertdir");
	out->cert = args_value(a, "cert");
	out->key = args_value(a, "key");
	out->sni = args_value(a, "sni");
	out->insecure = args_flag(a, "insecure");
	if (conn_tls_check(out, &err) != 0) {
		cli_error("%s", err.msg);
		return -1;
	}
	return 0;
}

int args_conn_opts(const struct cmd_args *a, struct conn_opts *out)
{
	long long timeout;

	if (args_int(a, "timeout", 1, 3600000, SC_DEFAULT_TIMEOUT_MS, &timeout) < 0 ||
	    args_password(a, &out->pass) < 0)
		return -1;
	out->user = args_value(a, "user");
	out->prefer_hostnames = args_flag(a, "prefer-hostnames");
	out->connect_timeout_ms = (int)timeout;
	out->command_timeout_ms = (int)timeout;
	return args_tls_opts(a, &out->tls);
}

/* An option's left column in help: "-o, --output FILE" or "    --json". */
static void option_left(const struct cmd_option *o, char *buf, size_t size)
{
	const char *meta = o->metavar ? o->metavar : "";

	if (o->short_name)
		snprintf(buf, size, "-%c, --%s%s%s", o->short_name, o->name, *meta ? " " : "", meta);
	else
		snprintf(buf, size, "    --%s%s%s", o->name, *meta ? " " : "", meta);
}

/* Help's option column is as wide as the widest option, at least
 * HELP_COLUMN_MIN, and two spaces from the text; an option wider than
 * HELP_COLUMN_MAX has its text on the next line, still in the column. */
#define HELP_COLUMN_MIN 28
#define HELP_COLUMN_MAX 36

void cmd_print_help(const struct cmd_entry *cmd, FILE *f)
{
	int width = HELP_COLUMN_MIN;
	char left[128];

	fprintf(f, "usage: slotctl %s %s\n\n%s\n", cmd->name, cmd->synopsis, cmd->summary);
	if (!cmd->options || !cmd->options[0].name)
		return;
	for (int i = 0; cmd->options[i].name; i++) {
		int len;

		option_left(&cmd->options[i], left, sizeof(left));
		len = (int)strlen(left);
		if (len > width && len <= HELP_COLUMN_MAX)
			width = len;
	}
	fprintf(f, "\noptions:\n");
	for (int i = 0; cmd->options[i].name; i++) {
		option_left(&cmd->options[i], left, sizeof(left));
		if ((int)strlen(left) > width)
			fprintf(f, "  %s\n  %-*s  %s\n", left, width, "", cmd->options[i].help);
		else
			fprintf(f, "  %-*s  %s\n", width, left, cmd->options[i].help);
	}
}

bool cmd_option_enumerated(const struct cmd_option *o)
{
	const char *m = o->metavar;

	if (!m || !strchr(m, '|') || m[0] == '|' || m[strlen(m) - 1] == '|' || strstr(m, "||"))
		return false;
	return strspn(m, "abcdefghijklmnopqrstuvwxyz|-") == strlen(m);
}
