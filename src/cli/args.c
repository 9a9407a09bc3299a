/* args.c: parses a subcommand's options from its declarative table
 * (struct cmd_option) with getopt_long, and turns the shared connection
 * options into struct conn_opts. */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

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
	for (int i = 0; cmd->options && cmd->options[i].name && len + 3 < size; i++) {
		const struct cmd_option *o = &cmd->options[i];

		if (!o->short_name)
			continue;
		buf[len++] = o->short_name;
		if (o->arg != OPT_FLAG)
			buf[len++] = ':';
	}
	buf[len] = '\0';
}

static int store_value(struct cmd_args *out, int idx, const char *value)
{
	const struct cmd_option *o = &out->cmd->options[idx];

	if (o->arg == OPT_LIST && out->count[idx] >= CMD_MAX_VALUES) {
		cli_error("too many --%s options (at most %d)", o->name, CMD_MAX_VALUES);
		return -1;
	}
	if (o->arg == OPT_LIST)
		out->values[idx][out->count[idx]] = value;
	else
		out->values[idx][0] = value;
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
		cli_error("%s: option '%s' needs a value", cmd->name, arg);
	else if (optopt && optopt < 256)
		cli_error("%s: unknown option '-%c' (see 'slotctl %s --help')", cmd->name, optopt, cmd->name);
	else
		cli_error("%s: unknown option '%s' (see 'slotctl %s --help')", cmd->name, arg, cmd->name);
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
		cli_error("%s: missing argument (usage: slotctl %s %s)", cmd->name, cmd->name, cmd->synopsis);
		return -1;
	}
	if (cmd->max_args >= 0 && out->argc > cmd->max_args) {
		cli_error("%s: unexpected argument '%s' (usage: slotctl %s %s)", cmd->name,
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
	if (a->cmd->options[idx].arg == OPT_LIST)
		return a->values[idx][a->count[idx] - 1];
	return a->values[idx][0];
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

int args_conn_opts(const struct cmd_args *a, struct conn_opts *out)
{
	long long timeout;
	const char *pass = args_value(a, "pass");

	if (args_int(a, "timeout", 1, 3600000, SC_DEFAULT_TIMEOUT_MS, &timeout) < 0)
		return -1;
	if (!pass || !*pass)
		pass = getenv("SLOTCTL_AUTH");
	if (!pass || !*pass)
		pass = getenv("REDISCLI_AUTH");
	out->user = args_value(a, "user");
	out->pass = (pass && *pass) ? pass : NULL;
	out->connect_timeout_ms = (int)timeout;
	out->command_timeout_ms = (int)timeout;
	return 0;
}

void cmd_print_help(const struct cmd_entry *cmd, FILE *f)
{
	fprintf(f, "usage: slotctl %s %s\n\n%s\n", cmd->name, cmd->synopsis, cmd->summary);
	if (!cmd->options || !cmd->options[0].name)
		return;
	fprintf(f, "\noptions:\n");
	for (int i = 0; cmd->options[i].name; i++) {
		const struct cmd_option *o = &cmd->options[i];
		char left[64];

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				o->metavar ? " " : "", o->metavar ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
				o->metavar ? " " : "", o->metavar ? o->metavar : "");
		fprintf(f, "  %-28s %s\n", left, o->help);
	}
}
