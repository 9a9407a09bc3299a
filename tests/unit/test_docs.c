/* test_docs.c: every command and option the program accepts (its hidden
 * `--list-options`) is documented in man/slotctl.1, in the command's .SS
 * section (or COMMON OPTIONS), and completed by the bash, zsh and fish
 * completions. The failure lists every gap at once. */
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
	char cmdline[4096], line[512];
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
		tab[1 + strcspn(tab + 1, "\n")] = '\0';
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

static Suite *docs_suite(void)
{
	Suite *s = suite_create("docs");
	TCase *tc = tcase_create("docs");

	tcase_add_test(tc, every_option_is_documented_and_completed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(docs_suite());
}
