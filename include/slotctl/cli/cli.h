/* cli.h: the command layer's declarative table. Each subcommand lives in
 * src/cli/cmd_<name>.c and defines one struct cmd_entry: its name, usage,
 * options and handler. main.c dispatches; args.c parses options from the
 * table; help, the man page and the completions are checked against it. */
#if defined(SLOTCTL_LAYER_CORE) || defined(SLOTCTL_LAYER_IO)
#error "slotctl/cli/cli.h is a cli header: neither the core nor io may include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_CLI_H
#define SLOTCTL_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "slotctl/io/conn.h"

enum opt_arg { OPT_FLAG = 0, OPT_VALUE = 1, OPT_LIST = 2 /* value, repeatable */ };

struct cmd_option {
	const char *name;        /* long name without "--" */
	char short_name;         /* 0 for none */
	enum opt_arg arg;
	const char *metavar;     /* "SECONDS"; NULL for flags */
	const char *help;        /* one line */
};

#define CMD_MAX_OPTIONS 48
#define CMD_MAX_VALUES 64

struct cmd_args {
	const struct cmd_entry *cmd;
	int argc;                /* positional arguments */
	char **argv;
	/* per option of cmd->options, in table order */
	int count[CMD_MAX_OPTIONS];
	const char *values[CMD_MAX_OPTIONS][CMD_MAX_VALUES];
	char *secret;            /* owned copy of --pass (cmd_args_hide_secrets); free it */
};

struct cmd_entry {
	const char *name;        /* "check", or two words: "plan reshard" */
	const char *synopsis;    /* arguments after the name, as in the man page */
	const char *summary;     /* one line for `slotctl --help` */
	const struct cmd_option *options; /* terminated by {0} */
	int min_args, max_args;  /* positional argument bounds (-1: no max) */
	int (*run)(const struct cmd_args *args); /* returns an enum sc_exit */
};

/* Options that every cluster-facing command takes; splice them into a
 * command's table with CMD_CONN_OPTIONS. */
#define CMD_CONN_OPTIONS \
	{ "timeout", 't', OPT_VALUE, "MS", "bound every connect and command (default 5000)" }, \
	{ "user", 0, OPT_VALUE, "NAME", "ACL user name" }, \
	{ "pass", 'a', OPT_VALUE, "PASSWORD", "password (or REDISCLI_AUTH / SLOTCTL_AUTH); see --pass-file" }, \
	{ "pass-file", 0, OPT_VALUE, "FILE", "read the password from FILE's first line" }, \
	{ "askpass", 0, OPT_FLAG, NULL, "ask for the password on the terminal, echo off" }, \
	{ "no-auth-warning", 0, OPT_FLAG, NULL, "no warning about a password given with -a/--pass" }, \
	{ "tls", 0, OPT_FLAG, NULL, "speak TLS to every node" }, \
	{ "cacert", 0, OPT_VALUE, "FILE", "with --tls: trust the CA certificates in FILE" }, \
	{ "cacertdir", 0, OPT_VALUE, "DIR", "with --tls: trust the CA certificates in DIR" }, \
	{ "cert", 0, OPT_VALUE, "FILE", "with --tls: client certificate (mutual TLS)" }, \
	{ "key", 0, OPT_VALUE, "FILE", "with --tls: the client certificate's private key" }, \
	{ "sni", 0, OPT_VALUE, "NAME", "with --tls: server name to send and to find in its certificate" }, \
	{ "insecure", 0, OPT_FLAG, NULL, "with --tls: do not check the server's certificate" }, \
	{ "prefer-hostnames", 0, OPT_FLAG, NULL, "connect to nodes by the host names they announce, not their IPs" }

/* All commands, terminated by {0}. Defined in commands.c. */
extern const struct cmd_entry *const cmd_table[];

/* Parses argv (after the command words) against cmd's options into out.
 * Long options must be spelled in full (no abbreviations). Returns 0, or -1
 * having printed the one wrong thing to stderr (with the options a mistyped
 * one was probably meant to be). "--help" or "-h" prints the command's help
 * to stdout and returns 1. */
int cmd_args_parse(const struct cmd_entry *cmd, int argc, char **argv, struct cmd_args *out);

/* Moves the value of --pass out of the process's arguments: keeps a copy
 * (a->secret, which the caller frees) and overwrites every occurrence in argv
 * with 'x', so that /proc/PID/cmdline and ps stop showing the password once
 * it is read. Call once, on the argv main() received (not on an argv built
 * from another command's values). Returns 0, or -1 having printed the error. */
int cmd_args_hide_secrets(struct cmd_args *a);

/* Option accessors by long name (the name must be in the command's table). */
bool args_flag(const struct cmd_args *a, const char *name);
const char *args_value(const struct cmd_args *a, const char *name); /* last given, or NULL */
int args_list(const struct cmd_args *a, const char *name, const char *const **values); /* count */

/* Parses an integer option within [min, max] into *out (def when absent).
 * Returns 0, or -1 having printed the error. */
int args_int(const struct cmd_args *a, const char *name, long long min, long long max,
	long long def, long long *out);

/* Parses a number option, fractions allowed (--threshold 0.1), within
 * [min, max] into *out (def when absent). Returns 0, or -1 having printed
 * the error. */
int args_double(const struct cmd_args *a, const char *name, double min, double max, double def,
	double *out);

/* Parses an option given in milliseconds, fractions allowed ("0.25"),
 * within [min_us, max_us] microseconds, into *out_us (def_us when absent).
 * Returns 0, or -1 having printed the error. */
int args_ms_as_us(const struct cmd_args *a, const char *name, long long min_us, long long max_us,
	long long def_us, long long *out_us);

/* The password of a's command into *out (NULL: none), from -a/--pass
 * (warning on stderr that it may not be safe, once, unless
 * --no-auth-warning), --pass-file FILE (its first line), --askpass (asked
 * on the terminal, echo off), else SLOTCTL_AUTH, else REDISCLI_AUTH. The
 * file is read and the question asked once per process. Returns 0, or -1
 * having printed the error (two of the three given, an unreadable file, no
 * terminal). */
int args_password(const struct cmd_args *a, const char **out);

/* Fills conn options from --timeout/--user/--pass, the REDISCLI_AUTH /
 * SLOTCTL_AUTH environment and the TLS options (whose files it checks:
 * conn_tls_check). Returns 0, or -1 having printed the error. */
int args_conn_opts(const struct cmd_args *a, struct conn_opts *out);

/* Prints the command's full help (usage, options) to f, the options'
 * descriptions in one column. */
void cmd_print_help(const struct cmd_entry *cmd, FILE *f);

/* True when o takes one of a few fixed words, written in its metavar as
 * lowercase words between '|' ("owner|source|target"): completions offer
 * them. */
bool cmd_option_enumerated(const struct cmd_option *o);

/* Prints a --json result: doc formatted, and a newline, on stdout; then frees
 * doc. A NULL doc (its builder ran out of memory) prints nothing. Returns
 * SC_EXIT_OK, or SC_EXIT_PROBLEMS having reported "out of memory" or when
 * stdout cannot be written (reported at exit by cli_close_stdout). */
struct cJSON;
int cli_print_json(struct cJSON *doc);

/* Flushes stdout. Returns 0, or -1 when this or any earlier write to it
 * failed (reported once, by cli_close_stdout). */
int cli_flush_stdout(void);

/* At exit: flushes and closes stdout. When any write to it failed, reports
 * "cannot write to stdout: <reason>" and returns SC_EXIT_PROBLEMS in place
 * of a success rc (an error rc is kept); else returns rc. */
int cli_close_stdout(int rc);

/* Reports an error once, on stderr: "slotctl: <msg>". */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports a usage error of command (NULL: of slotctl itself) on stderr: the
 * one wrong thing, "slotctl: <command>: <msg>", then where its usage is,
 * "slotctl: see 'slotctl help <command>'". The caller exits SC_EXIT_USAGE. */
void cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes a byte count as a person reads it, in binary units ("512 B",
 * "239.7 KiB", "1.5 MiB"; "?" when negative: unknown) into buf, and returns
 * buf. The one byte formatter of plan summaries, show, apply, fix. */
const char *cli_format_bytes(long long b, char *buf, size_t size);

/* Whether to use colour / progress on stream f: only on a TTY, never with a
 * non-empty NO_COLOR (colour). Decided here and nowhere else. */
bool cli_use_color(FILE *f);
bool cli_use_progress(FILE *f);

/* Asks "prompt [y/N] " on stderr and reads one answer from stdin. Returns
 * true only for y/yes. Returns false at once on a closed or non-TTY stdin
 * (*closed set true then), never looping. */
bool cli_confirm(const char *prompt, bool *closed);

#endif
