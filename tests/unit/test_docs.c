/* test_docs.c: every command and option the program accepts (its hidden
 * `--list-options`) is documented in man/slotctl.1, in the command's .SS
 * section (or COMMON OPTIONS), and completed by the bash, zsh and fish
 * completions; every slotctl command line of the man page's EXAMPLES runs a
 * command that exists with options it takes. The failure lists every gap at
 * once. */
#include <check.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "read_file.h"
#include "check_run.h"

#define GAPS_MAX 16384

/* A .SS or .SH section of the man page: its title and its text. */
struct man_section {
	char title[128];
	bool subsection;
	const char *start, *end;
};

struct man_page {
	char *text;
	struct man_section sections[128];
	int count;
};

static void man_load(struct man_page *m)
{
	const char *p;

	memset(m, 0, sizeof(*m));
	m->text = test_read_file("SLOTCTL_SOURCE_ROOT", "man/slotctl.1", NULL);
	for (p = m->text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		struct man_section *s;
		size_t len;

		if (strncmp(p, ".SS ", 4) != 0 && strncmp(p, ".SH ", 4) != 0)
			continue;
		if (m->count > 0)
			m->sections[m->count - 1].end = p;
		ck_assert_int_lt(m->count, 128);
		s = &m->sections[m->count++];
		s->subsection = p[2] == 'S';
		len = strcspn(p + 4, "\n");
		snprintf(s->title, sizeof(s->title), "%.*s", (int)len, p + 4);
		s->start = p;
		s->end = p + strlen(p);
	}
}

/* True when a .SS title such as "plan reshard|rebalance|drain" or "check"
 * names the command ("plan drain"): as many words, each among the title
 * word's '|' alternatives. */
static bool title_names(const char *title, const char *command)
{
	char t[128], c[128], *tsave, *csave;
	char *tw, *cw;

	snprintf(t, sizeof(t), "%s", title);
	snprintf(c, sizeof(c), "%s", command);
	for (char *q = t; *q; q++)
		if (*q == '"')
			*q = ' ';
	tw = strtok_r(t, " ", &tsave);
	cw = strtok_r(c, " ", &csave);
	for (; tw && cw; tw = strtok_r(NULL, " ", &tsave), cw = strtok_r(NULL, " ", &csave)) {
		char *asave, *alt;
		bool found = false;

		for (alt = strtok_r(tw, "|", &asave); alt; alt = strtok_r(NULL, "|", &asave))
			found = found || strcmp(alt, cw) == 0;
		if (!found)
			return false;
	}
	return !tw && !cw;
}

static const struct man_section *man_find(const struct man_page *m, const char *title, bool subsection)
{
	for (int i = 0; i < m->count; i++)
		if (m->sections[i].subsection == subsection &&
		    (subsection ? title_names(m->sections[i].title, title) : strcmp(m->sections[i].title, title) == 0))
			return &m->sections[i];
	return NULL;
}

/* True when the text [start, end) holds needle, not followed by more of a
 * longer option name ("--wait" does not match "--wait-ms"). */
static bool has_word(const char *start, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = start; p && p + n <= end; p = strstr(p + 1, needle)) {
		const char *after = p + n;

		if (strncmp(p, needle, n) != 0)
			continue;
		if (after < end && (isalnum((unsigned char)*after) || *after == '_'))
			continue;
		if (after + 1 < end && *after == '-' && isalnum((unsigned char)after[1]))
			continue;
		if (after + 2 < end && after[0] == '\\' && after[1] == '-' && isalnum((unsigned char)after[2]))
			continue;
		return true;
	}
	return false;
}

/* "--detailed-exitcode" as troff writes it: "\-\-detailed\-exitcode"
 * (a plain "-" inside the name is accepted too). */
static bool man_has_option(const struct man_section *s, const char *option)
{
	char escaped[256], plain[256];
	size_t k = 0;

	for (const char *p = option; *p && k + 3 < sizeof(escaped); p++) {
		if (*p == '-')
			escaped[k++] = '\\';
		escaped[k++] = *p;
	}
	escaped[k] = '\0';
	snprintf(plain, sizeof(plain), "\\-\\-%s", option + 2);
	return s && (has_word(s->start, s->end, escaped) || has_word(s->start, s->end, plain));
}

/* True when some line of text holds the quoted command name and needle. */
static bool line_has(const char *text, const char *command, const char *needle)
{
	char sq[160], dq[160];

	snprintf(sq, sizeof(sq), "'%s'", command);
	snprintf(dq, sizeof(dq), "\"%s\"", command);
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');

		if (!end)
			end = line + strlen(line);
		if ((has_word(line, end, sq) || has_word(line, end, dq)) && (!*needle || has_word(line, end, needle)))
			return true;
		line = *end ? end + 1 : end;
	}
	return false;
}

static void gap(char *gaps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void gap(char *gaps, const char *fmt, ...)
{
	size_t used = strlen(gaps);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(gaps + used, GAPS_MAX - used, fmt, ap);
	va_end(ap);
}

/* bash and zsh list "--option" on the command's case line; fish has one
 * "-l option" line per option, each naming the command. */
static void check_completions(const char *file, const char *text, const char *command, const char *option,
	char *gaps)
{
	bool fish = strstr(file, ".fish") != NULL;
	char needle[160] = "";

	if (*option)
		snprintf(needle, sizeof(needle), fish ? "-l %s" : "%s", fish ? option + 2 : option);
	if (!line_has(text, command, needle))
		gap(gaps, "  '%s%s%s' is not completed by %s\n", command, *option ? " " : "", option, file);
}

START_TEST(every_option_is_documented_and_completed)
{
	static const char *const completion_files[] = {
		"completions/slotctl.bash", "completions/_slotctl", "completions/slotctl.fish",
	};
	char *completions[3];
	static char gaps[GAPS_MAX];
	const char *bin = getenv("SLOTCTL_BIN");
	char cmdline[4096], line[4096];
	struct man_page man;
	const struct man_section *common;
	int listed = 0;
	FILE *p;

	ck_assert_msg(bin != NULL, "SLOTCTL_BIN is not set");
	gaps[0] = '\0';
	man_load(&man);
	common = man_find(&man, "COMMON OPTIONS", false);
	for (int i = 0; i < 3; i++)
		completions[i] = test_read_file("SLOTCTL_SOURCE_ROOT", completion_files[i], NULL);
	snprintf(cmdline, sizeof(cmdline), "'%s' --list-options", bin);
	p = popen(cmdline, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p)) {
		char *tab = strchr(line, '\t');
		const char *command = line, *option;
		const struct man_section *section;

		ck_assert_msg(tab != NULL, "bad --list-options line: %s", line);
		*tab = '\0';
		option = tab + 1;
		tab[1 + strcspn(tab + 1, "\t\n")] = '\0';
		listed++;
		section = man_find(&man, command, true);
		if (!*option && !section)
			gap(gaps, "  '%s' has no .SS section in man/slotctl.1\n", command);
		else if (*option && section && !man_has_option(section, option) && !man_has_option(common, option))
			gap(gaps, "  '%s %s' is not in man/slotctl.1 (under .SS %s or COMMON OPTIONS)\n", command,
				option, section->title);
		for (int i = 0; i < 3; i++)
			check_completions(completion_files[i], completions[i], command, option, gaps);
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_int_gt(listed, 0);
	for (int i = 0; i < 3; i++)
		free(completions[i]);
	free(man.text);
	if (gaps[0])
		fprintf(stderr, "docs gaps:\n%s", gaps);
	ck_assert_msg(gaps[0] == '\0',
		"commands or options of `slotctl --list-options` missing from the docs:\n%s"
		"document each option in man/slotctl.1 (a .TP under its command's .SS section) and run "
		"`python3 scripts/gen-completions.py build-dir/src/slotctl` to regenerate the completions",
		gaps);
}
END_TEST

/* The commands and options of `slotctl --list-options`: "check\t" for a
 * command, "check\t--json" and "check\t-w" for its options. */
struct option_table {
	char rows[2048][80];
	int count;
};

static void option_table_load(struct option_table *t)
{
	const char *bin = getenv("SLOTCTL_BIN");
	char cmdline[4096], line[4096];
	FILE *p;

	ck_assert_msg(bin != NULL, "SLOTCTL_BIN is not set");
	t->count = 0;
	snprintf(cmdline, sizeof(cmdline), "'%s' --list-options", bin);
	p = popen(cmdline, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p)) {
		char *f[6] = { line };

		for (int i = 1; i < 6; i++) {
			f[i] = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
			if (f[i])
				*f[i]++ = '\0';
		}
		ck_assert_msg(f[5] != NULL, "bad --list-options line: %s", line);
		ck_assert_int_lt(t->count + 2, 2048);
		snprintf(t->rows[t->count++], 80, "%s\t%s", f[0], f[1]);
		if (*f[2])
			snprintf(t->rows[t->count++], 80, "%s\t%s", f[0], f[2]);
	}
	ck_assert_int_eq(pclose(p), 0);
}

static bool option_table_has(const struct option_table *t, const char *command, const char *option)
{
	char row[80];

	snprintf(row, sizeof(row), "%s\t%s", command, option);
	for (int i = 0; i < t->count; i++)
		if (strcmp(t->rows[i], row) == 0)
			return true;
	return false;
}

/* Checks one example line "slotctl plan rebalance ... \-o plan.json | ..."
 * (troff escapes removed): its command exists, its options are the
 * command's. The command line ends at a shell operator or comment. */
static void check_example(const struct option_table *t, const char *text, char *gaps)
{
	char line[512], *save, *word, command[128] = "";
	int words = 0;

	snprintf(line, sizeof(line), "%s", text);
	for (word = strtok_r(line, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		if (strchr("|&;>#<", word[0]))
			break;
		if (++words == 1)
			continue;
		if (words == 2) {
			snprintf(command, sizeof(command), "%s", word);
			continue;
		}
		if (words == 3) {
			char two[128];

			snprintf(two, sizeof(two), "%s %s", command, word);
			if (option_table_has(t, two, "")) {
				snprintf(command, sizeof(command), "%s", two);
				continue;
			}
		}
		if (word[0] == '-' && word[1] && !option_table_has(t, command, word))
			gap(gaps, "  EXAMPLES: '%s' does not take '%s': %s\n", command, word, text);
	}
	if (words >= 2 && !option_table_has(t, command, ""))
		gap(gaps, "  EXAMPLES: no command '%s': %s\n", command, text);
}

START_TEST(examples_run_real_commands_and_options)
{
	static struct option_table table;
	static char gaps[GAPS_MAX];
	struct man_page man;
	const struct man_section *examples;
	bool in_block = false;
	int checked = 0;

	gaps[0] = '\0';
	option_table_load(&table);
	man_load(&man);
	examples = man_find(&man, "EXAMPLES", false);
	ck_assert_msg(examples != NULL, "man/slotctl.1 has no EXAMPLES section");
	ck_assert_msg(man_find(&man, "SEE ALSO", false) != NULL, "man/slotctl.1 has no SEE ALSO section");
	/* the command lines are the .nf blocks' lines running slotctl */
	for (const char *p = examples->start; p < examples->end;) {
		size_t len = strcspn(p, "\n");
		char text[512];
		const char *at;
		size_t k = 0;

		for (size_t i = 0; i < len && k + 1 < sizeof(text); i++)
			if (p[i] != '\\' || (i + 1 < len && p[i + 1] == '\\'))
				text[k++] = p[i];
		text[k] = '\0';
		if (strcmp(text, ".nf") == 0 || strcmp(text, ".fi") == 0)
			in_block = text[1] == 'n';
		else if (in_block && (at = strstr(text, "slotctl ")) != NULL) {
			check_example(&table, at, gaps);
			checked++;
		}
		p += len + (p[len] == '\n');
	}
	free(man.text);
	ck_assert_msg(gaps[0] == '\0', "man/slotctl.1 EXAMPLES run what slotctl does not take:\n%s", gaps);
	ck_assert_int_ge(checked, 4);
}
END_TEST

static Suite *docs_suite(void)
{
	Suite *s = suite_create("docs");
	TCase *tc = tcase_create("docs");

	tcase_add_test(tc, every_option_is_documented_and_completed);
	tcase_add_test(tc, examples_run_real_commands_and_options);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(docs_suite());
}
