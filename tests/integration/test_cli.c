/* test_cli.c: the command line's habits, run on $SLOTCTL_BIN without a
 * cluster: `slotctl help CMD` and `slotctl CMD -h` show that command's help
 * (two-word commands and groups too); a mistyped command or option gets a
 * "did you mean" naming only close matches; options are never abbreviated,
 * and an abbreviation is named as such (an ambiguous one with every
 * candidate); a usage error is the one wrong line plus a hint, exit 2,
 * nothing on stdout; every help's option descriptions start in one column;
 * a one-step command's errors name that command. */
#include "support.h"
#include "check_run.h"

#include "slotctl/core/exitcode.h"

#include <stdlib.h>
#include <string.h>

/* Runs slotctl with argv (NULL-terminated) and asserts exit want. */
static void run_expect(struct run_result *r, int want, const char *const *argv)
{
	run_slotctl_argv(r, 30, argv);
	ck_assert_exit(r, want);
}

/* Asserts r is a usage error: exit 2, nothing on stdout, exactly two lines
 * on stderr, the second the hint to `slotctl help` (hint, e.g. "slotctl help
 * check"); the first line must hold each of the NULL-terminated needles. */
static void assert_usage_error(const struct run_result *r, const char *hint, const char *const *needles)
{
	char want_hint[160];
	const char *nl = strchr(r->err, '\n');

	ck_assert_exit(r, SC_EXIT_USAGE);
	ck_assert_msg(r->out[0] == '\0', "usage error printed on stdout:\n%s", r->out);
	ck_assert_msg(nl != NULL && strchr(nl + 1, '\n') != NULL && strchr(nl + 1, '\n')[1] == '\0',
		"want two lines on stderr, got:\n%s", r->err);
	snprintf(want_hint, sizeof(want_hint), "\nslotctl: see '%s'\n", hint);
	ck_assert_contains(r->err, want_hint);
	for (int i = 0; needles[i]; i++) {
		ck_assert_msg(strstr(r->err, needles[i]) != NULL && strstr(r->err, needles[i]) < nl,
			"expected '%s' in the first line of:\n%s", needles[i], r->err);
	}
}

#define USAGE_ERROR(hint, ...) \
	do { \
		struct run_result r_; \
		run_slotctl_argv(&r_, 30, (const char *const[]){ __VA_ARGS__, NULL }); \
		assert_usage_error(&r_, hint, needles); \
		run_result_free(&r_); \
	} while (0)

START_TEST(help_command_shows_that_commands_help)
{
	struct run_result r;

	run_expect(&r, 0, (const char *const[]){ "help", "check", NULL });
	ck_assert_contains(r.out, "usage: slotctl check HOST:PORT");
	ck_assert_contains(r.out, "--deep");
	ck_assert_msg(strstr(r.out, "Exit status") == NULL, "top-level help for 'help check':\n%s", r.out);
	run_result_free(&r);

	run_expect(&r, 0, (const char *const[]){ "help", "plan", "rebalance", NULL });
	ck_assert_contains(r.out, "usage: slotctl plan rebalance HOST:PORT");
	ck_assert_contains(r.out, "--use-empty-masters");
	run_result_free(&r);

	/* a group lists its commands */
	run_expect(&r, 0, (const char *const[]){ "help", "plan", NULL });
	ck_assert_contains(r.out, "plan reshard");
	ck_assert_contains(r.out, "plan rebalance");
	ck_assert_contains(r.out, "plan drain");
	run_result_free(&r);

	/* and `help` alone is the top-level help */
	run_expect(&r, 0, (const char *const[]){ "help", NULL });
	ck_assert_contains(r.out, "Exit status");
	run_result_free(&r);
}
END_TEST

START_TEST(dash_h_shows_that_commands_help)
{
	static const char *const cases[][4] = {
		{ "check", "-h", NULL, "usage: slotctl check HOST:PORT" },
		{ "check", "--help", NULL, "usage: slotctl check HOST:PORT" },
		{ "plan", "rebalance", "-h", "usage: slotctl plan rebalance HOST:PORT" },
		{ "sandbox", "up", "-h", "usage: slotctl sandbox up" },
		{ "plan", "-h", NULL, "plan drain" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { cases[i][0], cases[i][1], cases[i][2], NULL };
		struct run_result r;

		run_expect(&r, 0, argv);
		ck_assert_contains(r.out, cases[i][3]);
		ck_assert_msg(r.err[0] == '\0', "help wrote on stderr:\n%s", r.err);
		run_result_free(&r);
	}
}
END_TEST

START_TEST(mistyped_command_gets_did_you_mean)
{
	{
		const char *needles[] = { "unknown command 'chek'", "did you mean 'check'?", NULL };

		USAGE_ERROR("slotctl help", "chek", "127.0.0.1:1");
		USAGE_ERROR("slotctl help", "help", "chek");
	}
	{
		const char *needles[] = { "plan: unknown command 'rebalnce'", "did you mean 'rebalance'?", NULL };

		USAGE_ERROR("slotctl help plan", "plan", "rebalnce", "127.0.0.1:1");
	}
	{
		const char *needles[] = { "plan: needs a subcommand: 'reshard', 'rebalance' or 'drain'", NULL };

		USAGE_ERROR("slotctl help plan", "plan");
	}
	{
		/* a word far from every command gets no guess */
		const char *needles[] = { "unknown command 'frobnicate'", NULL };
		struct run_result r;

		USAGE_ERROR("slotctl help", "frobnicate");
		run_slotctl(&r, 30, "frobnicate", NULL);
		ck_assert_msg(strstr(r.err, "did you mean") == NULL, "a far guess:\n%s", r.err);
		run_result_free(&r);
	}
}
END_TEST

START_TEST(mistyped_option_gets_did_you_mean)
{
	{
		const char *needles[] = { "check: unknown option '--jsno'", "did you mean '--json'?", NULL };

		USAGE_ERROR("slotctl help check", "check", "127.0.0.1:1", "--jsno");
	}
	{
		const char *needles[] = { "fix: unknown option '--prefr'", "did you mean '--prefer'?", NULL };

		USAGE_ERROR("slotctl help fix", "fix", "--prefr", "owner", "127.0.0.1:1");
	}
	{
		const char *needles[] = { "plan rebalance: unknown option '--treshold'", "did you mean '--threshold'?",
			NULL };

		USAGE_ERROR("slotctl help plan rebalance", "plan", "rebalance", "127.0.0.1:1", "--treshold", "3",
			"-o", "-");
	}
	{
		const char *needles[] = { "unknown option '--verison'", "did you mean '--version'?", NULL };

		USAGE_ERROR("slotctl help", "--verison");
	}
	{
		const char *needles[] = { "check: unknown option '--frobnicate'", NULL };
		struct run_result r;

		USAGE_ERROR("slotctl help check", "check", "--frobnicate", "127.0.0.1:1");
		run_slotctl(&r, 30, "check", "--frobnicate", "127.0.0.1:1", NULL);
		ck_assert_msg(strstr(r.err, "did you mean") == NULL, "a far guess:\n%s", r.err);
		run_result_free(&r);
	}
	{
		const char *needles[] = { "check: option '--json' takes no value", NULL };

		USAGE_ERROR("slotctl help check", "check", "--json=yes", "127.0.0.1:1");
	}
}
END_TEST

/* getopt_long took the one option an abbreviation begins ("--max-slots" for
 * --max-slots-per-batch), so an option added later could turn a working
 * script into an error; abbreviations are refused, each time, naming what
 * was meant, and nothing is tried against the (unreachable) seed. */
START_TEST(abbreviated_options_are_refused)
{
	{
		const char *needles[] = { "plan rebalance: unknown option '--max-slots' (options are not abbreviated)",
			"did you mean '--max-slots-per-batch'?", NULL };

		USAGE_ERROR("slotctl help plan rebalance", "plan", "rebalance", "127.0.0.1:1", "--max-slots", "8",
			"-o", "-");
	}
	{
		const char *needles[] = { "check: unknown option '--js' (options are not abbreviated)",
			"did you mean '--json'?", NULL };

		USAGE_ERROR("slotctl help check", "check", "--js", "127.0.0.1:1");
	}
	{
		const char *needles[] = { "apply: option '--max' is ambiguous (options are not abbreviated)",
			"'--max-keys-per-sec', '--max-bytes-per-sec' or '--max-block-ms'?", NULL };

		USAGE_ERROR("slotctl help apply", "apply", "--max", "100", "plan.json");
	}
}
END_TEST

/* The lines of text in a fresh array (NULL-terminated; free each and it). */
static char **lines_of(const char *text)
{
	size_t n = 1;
	char **lines;

	for (const char *p = text; *p; p++)
		n += *p == '\n';
	lines = calloc(n + 1, sizeof(*lines));
	ck_assert_ptr_nonnull(lines);
	n = 0;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		lines[n] = strndup(p, len);
		ck_assert_ptr_nonnull(lines[n]);
		n++;
		p += len + (p[len] == '\n');
	}
	return lines;
}

static void free_lines(char **lines)
{
	for (size_t i = 0; lines[i]; i++)
		free(lines[i]);
	free(lines);
}

/* True when s ends with tail. */
static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/* The column where option's text (its help from --list-options) starts in
 * help's lines: on the line that begins with the option ("-o, --output
 * FILE" or "--json"), or on the next one when the option is too wide for
 * the column. -1 when no line describes it. */
static int help_column(char **help, const char *option, const char *text)
{
	size_t olen = strlen(option);

	for (size_t i = 0; help[i]; i++) {
		const char *left = help[i] + strspn(help[i], " ");

		if (left[0] == '-' && left[1] != '-' && left[1] && strncmp(left + 2, ", ", 2) == 0)
			left += 4;
		if (strncmp(left, option, olen) != 0 || (left[olen] != ' ' && left[olen] != '\0'))
			continue;
		if (ends_with(help[i], text))
			return (int)(strlen(help[i]) - strlen(text));
		if (help[i + 1] && ends_with(help[i + 1], text))
			return (int)(strlen(help[i + 1]) - strlen(text));
		return -1;
	}
	return -1;
}

/* Every command's help starts each option's description in one column
 * (fix's "--prefer owner|source|target" was wider than the column). */
START_TEST(help_columns_are_aligned)
{
	struct run_result list;
	char **rows;
	int checked = 0;

	run_expect(&list, 0, (const char *const[]){ "--list-options", NULL });
	rows = lines_of(list.out);
	for (size_t i = 0; rows[i];) {
		char command[64], **help;
		struct run_result r;
		int column = -1;

		snprintf(command, sizeof(command), "%.*s", (int)strcspn(rows[i], "\t"), rows[i]);
		{
			char words[64], *space;
			const char *argv[4] = { "help", words, NULL, NULL };

			snprintf(words, sizeof(words), "%s", command);
			space = strchr(words, ' ');
			if (space) {
				*space = '\0';
				argv[2] = space + 1;
			}
			run_expect(&r, 0, argv);
		}
		help = lines_of(r.out);
		for (i++; rows[i] && strncmp(rows[i], command, strlen(command)) == 0 &&
		     rows[i][strlen(command)] == '\t'; i++) {
			char option[64];
			const char *text = strrchr(rows[i], '\t') + 1;
			const char *name = rows[i] + strlen(command) + 1;
			int at;

			snprintf(option, sizeof(option), "%.*s", (int)strcspn(name, "\t"), name);
			at = help_column(help, option, text);
			ck_assert_msg(at >= 0, "'%s' help does not describe %s:\n%s", command, option, r.out);
			if (column < 0)
				column = at;
			ck_assert_msg(at == column, "'%s' help: %s's text starts at column %d, the others' at %d:\n%s",
				command, option, at, column, r.out);
			checked++;
		}
		free_lines(help);
		run_result_free(&r);
	}
	ck_assert_int_gt(checked, 50);
	free_lines(rows);
	run_result_free(&list);
}
END_TEST

/* A one-step command's planning errors name it and its own usage, not the
 * `plan` command it once re-parsed its options against ("plan reshard:
 * ... -o FILE", "see 'slotctl help plan rebalance'"). */
START_TEST(one_shot_errors_name_the_command_run)
{
	struct run_result r;

	run_expect(&r, SC_EXIT_USAGE, (const char *const[]){ "reshard", "127.0.0.1:1", "--from", "all", "--to",
		"abcd", "--yes", NULL });
	ck_assert_contains(r.err, "slotctl: reshard: give --from, --to and one of --slots or --slot-ranges "
		"(usage: slotctl reshard HOST:PORT");
	ck_assert_msg(strstr(r.err, "plan reshard") == NULL && strstr(r.err, "-o FILE") == NULL,
		"reshard's error names plan reshard:\n%s", r.err);
	run_result_free(&r);
	{
		const char *needles[] = { "slotctl: rebalance: --weight: 'abcd=-1'", NULL };

		USAGE_ERROR("slotctl help rebalance", "rebalance", "127.0.0.1:1", "--weight", "abcd=-1", "--yes");
	}
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, help_command_shows_that_commands_help);
	tcase_add_test(tc, dash_h_shows_that_commands_help);
	tcase_add_test(tc, mistyped_command_gets_did_you_mean);
	tcase_add_test(tc, mistyped_option_gets_did_you_mean);
	tcase_add_test(tc, abbreviated_options_are_refused);
	tcase_add_test(tc, help_columns_are_aligned);
	tcase_add_test(tc, one_shot_errors_name_the_command_run);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(cli_suite());
}
