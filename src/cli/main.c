/* main.c: slotctl's entry point: finds the subcommand in cmd_table (one or
 * two words), parses its options and runs it. Global help, version and the
 * hidden --list-options (for completions and the docs test) live here too. */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

#include <stdlib.h>
#include <string.h>

static void print_usage(FILE *f)
{
	fprintf(f, "usage: slotctl COMMAND [ARGS] [OPTIONS]\n\n"
		"Moves Redis Cluster hash slots between masters safely, fast and reviewably.\n\n"
		"commands:\n");
	for (int i = 0; cmd_table[i]; i++)
		fprintf(f, "  %-18s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fprintf(f, "\nRun 'slotctl COMMAND --help' for a command's options.\n"
		"Exit status:\n");
	for (int code = 0; code < SC_EXIT_COUNT; code++) {
		const struct sc_exit_info *e = sc_exit_lookup(code);

		fprintf(f, "  %d  %s\n", e->code, e->meaning);
	}
}

/* Hidden `--list-options`: every command and its options, one per line
 * ("<command>\t" then "<command>\t--<option>"), for
 * scripts/gen-completions.py and the docs test. */
static void list_options(FILE *f)
{
	for (int i = 0; cmd_table[i]; i++) {
		const struct cmd_entry *cmd = cmd_table[i];

		fprintf(f, "%s\t\n", cmd->name);
		for (int j = 0; cmd->options && cmd->options[j].name; j++)
			fprintf(f, "%s\t--%s\n", cmd->name, cmd->options[j].name);
	}
}

/* Matches argv[1] (and argv[2] for two-word commands) against the table.
 * Returns the entry and sets *words to how many argv entries it used. */
static const struct cmd_entry *find_command(int argc, char **argv, int *words)
{
	for (int i = 0; cmd_table[i]; i++) {
		const char *name = cmd_table[i]->name;
		const char *space = strchr(name, ' ');

		if (!space && strcmp(name, argv[1]) == 0) {
			*words = 1;
			return cmd_table[i];
		}
		if (space && argc > 2 && strncmp(name, argv[1], (size_t)(space - name)) == 0 &&
		    argv[1][space - name] == '\0' && strcmp(space + 1, argv[2]) == 0) {
			*words = 2;
			return cmd_table[i];
		}
	}
	return NULL;
}

static bool is_command_group(const char *word)
{
	size_t len = strlen(word);

	for (int i = 0; cmd_table[i]; i++)
		if (strncmp(cmd_table[i]->name, word, len) == 0 && cmd_table[i]->name[len] == ' ')
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const struct cmd_entry *cmd;
	struct cmd_args args;
	int words = 0;
	int rc;

	if (argc < 2) {
		print_usage(stderr);
		return SC_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		print_usage(stdout);
		return SC_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("slotctl %s\n", SLOTCTL_VERSION);
		return SC_EXIT_OK;
	}
	if (strcmp(argv[1], "--list-options") == 0) {
		list_options(stdout);
		return SC_EXIT_OK;
	}
	cmd = find_command(argc, argv, &words);
	if (!cmd) {
		if (is_command_group(argv[1]))
			cli_error("'%s' needs a subcommand (see 'slotctl --help')", argv[1]);
		else
			cli_error("unknown command '%s' (see 'slotctl --help')", argv[1]);
		return SC_EXIT_USAGE;
	}
	rc = cmd_args_parse(cmd, argc - words, argv + words, &args);
	if (rc != 0) {
		free(args.argv);
		return rc > 0 ? SC_EXIT_OK : SC_EXIT_USAGE;
	}
	rc = cmd->run(&args);
	free(args.argv);
	return rc;
}
