/* output.c: how the command layer talks to the user: errors and warnings on
 * stderr, --json results on stdout, the one decision about colour and
 * progress, and confirmation prompts that never spin on a closed stdin. */
#include "slotctl/cli/cli.h"
#include "slotctl/core/exitcode.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void report(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("slotctl: ", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("slotctl: warning: ", fmt, ap);
	va_end(ap);
}

void cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "slotctl: %s%s", command ? command : "", command ? ": " : "");
	va_start(ap, fmt);
	report("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "slotctl: see 'slotctl help%s%s'\n", command ? " " : "", command ? command : "");
}

int cli_print_json(cJSON *doc)
{
	char *text = doc ? cJSON_Print(doc) : NULL;

	cJSON_Delete(doc);
	if (!text) {
		cli_error("out of memory");
		return SC_EXIT_PROBLEMS;
	}
	printf("%s\n", text);
	cJSON_free(text);
	return cli_flush_stdout() == 0 ? SC_EXIT_OK : SC_EXIT_PROBLEMS;
}

/* errno of the first write to stdout seen failing, 0: none yet */
static int stdout_errno;

int cli_flush_stdout(void)
{
	if (fflush(stdout) != 0 && !stdout_errno)
		stdout_errno = errno ? errno : EIO;
	return ferror(stdout) ? -1 : 0;
}

int cli_close_stdout(int rc)
{
	bool failed = cli_flush_stdout() != 0;

	if (fclose(stdout) != 0 && (failed || errno != EBADF)) {
		/* EBADF with nothing pending: stdout was closed and nothing written */
		failed = true;
		if (!stdout_errno)
			stdout_errno = errno;
	}
	if (!failed)
		return rc;
	cli_error("cannot write to stdout: %s", strerror(stdout_errno ? stdout_errno : EIO));
	return rc == SC_EXIT_OK || rc == SC_EXIT_MOVES_PLANNED ? SC_EXIT_PROBLEMS : rc;
}

const char *cli_format_bytes(long long b, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	if (b < 0) {
		snprintf(buf, size, "?");
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

bool cli_use_color(FILE *f)
{
	const char *no_color = getenv("NO_COLOR");

	if (no_color && *no_color)
		return false;
	return isatty(fileno(f)) == 1;
}

bool cli_use_progress(FILE *f)
{
	return isatty(fileno(f)) == 1;
}

bool cli_confirm(const char *prompt, bool *closed)
{
	char answer[16];
	size_t len;

	if (closed)
		*closed = false;
	if (!isatty(STDIN_FILENO)) {
		if (closed)
			*closed = true;
		return false;
	}
	fprintf(stderr, "%s [y/N] ", prompt);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin)) {
		if (closed)
			*closed = true;
		return false;
	}
	len = strcspn(answer, "\r\n");
	answer[len] = '\0';
	return strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
}
