/* main.c: slotctl's entry point: finds the subcommand in cmd_table (one or
 * two words), parses its options and runs it. Global help, `help COMMAND`,
 * version, the "did you mean" of a mistyped command and the hidden
 * --list-options (for completions and the docs test) live here too. */
#include "slotctl/cli/cli.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/suggest.h"

#include <stdlib.h>
#include <string.h>

/* At most this many distinct first words, or commands in one group. */
#define WORDS_MAX 32

static void print_usage(FILE *f)
{
	fprintf(f, "usage: slotctl COMMAND [ARGS] [OPTIONS]\n\n"
		"Moves Redis Cluster hash slots between masters safely, fast and reviewably.\n\n"
		"commands:\n");
	for (int i = 0; cmd_table[i]; i++)
		fprintf(f, "  %-18s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fprintf(f, "\nRun 'slotctl help COMMAND' (or 'slotctl COMMAND --help') for a command's options.\n"
		"Exit status:\n");
	for (int code = 0; code < SC_EXIT_COUNT; code++) {
		const struct sc_exit_info *e = sc_exit_lookup(code);

		fprintf(f, "  %d  %s\n", e->code, e->meaning);
	}
}

/* The second words of the commands of group ("plan": reshard, rebalance,
 * drain), pointing into the table. Returns how many (0: not a group). */
static int group_words(const char *group, const char **out)
{
	size_t len = strlen(group);
	int n = 0;

	for (int i = 0; cmd_table[i] && n < WORDS_MAX; i++)
		if (strncmp(cmd_table[i]->name, group, len) == 0 && cmd_table[i]->name[len] == ' ')
			out[n++] = cmd_table[i]->name + len + 1;
	return n;
}

/* The distinct first words of the commands, in table order, then the
 * built-in "help" and "version"; words holds their text. Returns how many. */
static int first_words(char words[][SUGGEST_WORD_MAX + 1], const char **out)
{
	int n = 0;

	for (int i = 0; cmd_table[i] && n < WORDS_MAX - 2; i++) {
		const char *name = cmd_table[i]->name;
		int len = (int)strcspn(name, " ");
		bool seen = false;

		snprintf(words[n], SUGGEST_WORD_MAX + 1, "%.*s", len, name);
		for (int j = 0; j < n; j++)
			seen = seen || strcmp(out[j], words[n]) == 0;
		if (!seen) {
			out[n] = words[n];
			n++;
		}
	}
	out[n++] = "help";
	out[n++] = "version";
	return n;
}

static bool is_group(const char *word)
{
	const char *seconds[WORDS_MAX];

	return group_words(word, seconds) > 0;
}

static void print_group(const char *group, FILE *f)
{
	size_t len = strlen(group);

	fprintf(f, "usage: slotctl %s COMMAND [ARGS] [OPTIONS]\n\ncommands:\n", group);
	for (int i = 0; cmd_table[i]; i++)
		if (strncmp(cmd_table[i]->name, group, len) == 0 && cmd_table[i]->name[len] == ' ')
			fprintf(f, "  %-18s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fprintf(f, "\nRun 'slotctl help %s COMMAND' for a command's options.\n", group);
}

/* Hidden `--list-options`: every command and its options, one per line, six
 * fields separated by tabs: command, "--option", "-o" (or empty), metavar
 * (empty for a flag), its fixed values separated by spaces (empty unless
 * cmd_option_enumerated), the option's help. A command's own line has empty
 * option fields and its summary as help. For scripts/gen-completions.py and
 * the docs test. */
static void list_options(FILE *f)
{
	for (int i = 0; cmd_table[i]; i++) {
		const struct cmd_entry *cmd = cmd_table[i];

		fprintf(f, "%s\t\t\t\t\t%s\n", cmd->name, cmd->summary);
		for (int j = 0; cmd->options && cmd->options[j].name; j++) {
			const struct cmd_option *o = &cmd->options[j];
			const char *meta = o->metavar ? o->metavar : "";

			fprintf(f, "%s\t--%s\t", cmd->name, o->name);
			if (o->short_name)
				fprintf(f, "-%c", o->short_name);
			fprintf(f, "\t%s\t", meta);
			for (const char *p = meta; cmd_option_enumerated(o) && *p; p++)
				fputc(*p == '|' ? ' ' : *p, f);
			fprintf(f, "\t%s\n", o->help);
		}
	}
}

/* Matches argv[0] (and argv[1] for two-word commands) against the table.
 * Returns the entry and sets *words to how many argv entries it used. */
static const struct cmd_entry *find_command(int argc, char **argv, int *words)
{
	for (int i = 0; cmd_table[i]; i++) {
		const char *name = cmd_table[i]->name;
		const char *space = strchr(name, ' ');

		if (!space && strcmp(name, argv[0]) == 0) {
			*words = 1;
			return cmd_table[i];
		}
		if (space && argc > 1 && strncmp(name, argv[0], (size_t)(space - name)) == 0 &&
		    argv[0][space - name] == '\0' && strcmp(space + 1, argv[1]) == 0) {
			*words = 2;
			return cmd_table[i];
		}
	}
	return NULL;
}

/* Reports typed, which is none of words[0..n), with the words it was
 * probably meant to be. what is "command" or "option"; group (or NULL) the
 * command group it was typed in. */
static void report_unknown(const char *group, const char *what, const char *typed, const char *const *words,
	int n)
{
	const char *near[8];
	char list[512];
	int k = suggest_words(typed, words, n, near, 8, NULL);

	suggest_format(near, k, "", list, sizeof(list));
	if (k > 0)
		cli_usage_error(group, "unknown %s '%s'; did you mean %s?", what, typed, list);
	else
		cli_usage_error(group, "unknown %s '%s'", what, typed);
}

/* Reports command words argv[0..argc) that name no command. */
static void report_no_command(int argc, char **argv)
{
	char texts[WORDS_MAX][SUGGEST_WORD_MAX + 1];
	const char *words[WORDS_MAX];
	int n = group_words(argv[0], words);

	if (n > 0 && (argc < 2 || argv[1][0] == '-')) {
		char list[512];

		suggest_format(words, n, "", list, sizeof(list));
		cli_usage_error(argv[0], "needs a subcommand: %s", list);
	} else if (n > 0) {
		report_unknown(argv[0], "command", argv[1], words, n);
	} else if (argv[0][0] == '-') {
		static const char *const options[] = { "--help", "--version" };

		report_unknown(NULL, "option", argv[0], options, 2);
	} else {
		n = first_words(texts, words);
		report_unknown(NULL, "command", argv[0], words, n);
	}
}

static bool is_help(const char *word)
{
	return strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0;
}

/* `slotctl help [COMMAND...]`: the help of the command (or group) that
 * argv[0..argc) names, on stdout. */
static int run_help(int argc, char **argv)
{
	const struct cmd_entry *cmd;
	int words = 0;

	if (argc == 0) {
		print_usage(stdout);
		return SC_EXIT_OK;
	}
	cmd = find_command(argc, argv, &words);
	if (cmd && words == argc) {
		cmd_print_help(cmd, stdout);
		return SC_EXIT_OK;
	}
	if (cmd) {
		cli_usage_error(NULL, "help: unexpected argument '%s' (usage: slotctl help [COMMAND])", argv[words]);
		return SC_EXIT_USAGE;
	}
	if (argc == 1 && is_group(argv[0])) {
		print_group(argv[0], stdout);
		return SC_EXIT_OK;
	}
	report_no_command(argc, argv);
	return SC_EXIT_USAGE;
}

static int run_main(int argc, char **argv)
{
	const struct cmd_entry *cmd;
	struct cmd_args args;
	int words = 0;
	int rc;

	if (argc < 2) {
		print_usage(stderr);
		return SC_EXIT_USAGE;
	}
	if (is_help(argv[1]) || strcmp(argv[1], "help") == 0)
		return run_help(argc - 2, argv + 2);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("slotctl %s\n", SLOTCTL_VERSION);
		return SC_EXIT_OK;
	}
	if (strcmp(argv[1], "--list-options") == 0) {
		list_options(stdout);
		return SC_EXIT_OK;
	}
	cmd = find_command(argc - 1, argv + 1, &words);
	if (!cmd && argc > 2 && is_help(argv[2]))
		return run_help(1, argv + 1);
	if (!cmd) {
		report_no_command(argc - 1, argv + 1);
		return SC_EXIT_USAGE;
	}
	rc = cmd_args_parse(cmd, argc - words, argv + words, &args);
	if (rc == 0 && cmd_args_hide_secrets(&args) != 0)
		rc = -1;
	if (rc != 0) {
		free(args.argv);
		free(args.secret);
		return rc > 0 ? SC_EXIT_OK : SC_EXIT_USAGE;
	}
	rc = cmd->run(&args);
	free(args.argv);
	free(args.secret);
	return rc;
}

int main(int argc, char **argv)
{
	return cli_close_stdout(run_main(argc, argv));
}
