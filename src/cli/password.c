/* password.c: where a command's password comes from: -a/--pass (with a
 * warning, as redis-cli gives, since others see it in ps and it stays in
 * the shell's history), --pass-file (its first line), --askpass (asked on
 * the terminal, echo off), else SLOTCTL_AUTH or REDISCLI_AUTH. The file and
 * the answer are read once per process: a one-shot command that runs a
 * second command inside it neither reads nor asks again. */
#include "slotctl/cli/cli.h"
#include "slotctl/io/file_text.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASSWORD_FILE_MAX 4096

static char *from_file;  /* --pass-file's first line, kept until exit */
static char *asked;      /* --askpass's answer, kept until exit */
static bool warned;

/* The first line of path, without its line end. */
static int read_pass_file(const char *path, const char **out)
{
	struct sc_error err = { 0 };
	size_t len;
	char *text;

	if (from_file) {
		*out = from_file;
		return 0;
	}
	if (file_read(path, "password file", PASSWORD_FILE_MAX, 0, &text, &len, &err) != 0) {
		cli_error("--pass-file: %s", err.msg);
		return -1;
	}
	text[strcspn(text, "\r\n")] = '\0';
	if (!text[0]) {
		cli_error("--pass-file: '%s' has an empty first line", path);
		free(text);
		return -1;
	}
	*out = from_file = text;
	return 0;
}

/* Asks for the password on the terminal with echo off. */
static int ask_pass(const char **out)
{
	struct termios old, quiet;
	char line[1024];
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	FILE *tty = fd >= 0 ? fdopen(fd, "r+") : NULL;
	bool ok;

	if (asked) {
		*out = asked;
		return 0;
	}
	if (!tty || tcgetattr(fd, &old) != 0) {
		if (tty)
			fclose(tty);
		else if (fd >= 0)
			close(fd);
		cli_error("--askpass needs a terminal to ask on; use --pass-file or REDISCLI_AUTH");
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	fputs("Please input password: ", tty);
	fflush(tty);
	tcsetattr(fd, TCSADRAIN, &quiet);
	ok = fgets(line, sizeof(line), tty) != NULL;
	tcsetattr(fd, TCSADRAIN, &old);
	fclose(tty);
	line[ok ? strcspn(line, "\r\n") : 0] = '\0';
	if (!line[0] || !(asked = strdup(line))) {
		memset(line, 0, sizeof(line));
		cli_error("--askpass: no password given");
		return -1;
	}
	memset(line, 0, sizeof(line));
	*out = asked;
	return 0;
}

int args_password(const struct cmd_args *a, const char **out)
{
	const char *pass = args_value(a, "pass"), *file = args_value(a, "pass-file");
	bool ask = args_flag(a, "askpass");

	*out = NULL;
	if ((pass != NULL) + (file != NULL) + ask > 1) {
		cli_usage_error(a->cmd->name, "give the password one way: --pass, --pass-file or --askpass");
		return -1;
	}
	if (pass && *pass && !args_flag(a, "no-auth-warning") && !warned) {
		warned = true;
		cli_warn("a password on the command line (-a/--pass) may not be safe: others can see it in ps, "
			"and it stays in the shell's history; use --pass-file, --askpass or REDISCLI_AUTH "
			"(--no-auth-warning silences this)");
	}
	if (file)
		return read_pass_file(file, out);
	if (ask)
		return ask_pass(out);
	if (!pass || !*pass)
		pass = getenv("SLOTCTL_AUTH");
	if (!pass || !*pass)
		pass = getenv("REDISCLI_AUTH");
	*out = pass && *pass ? pass : NULL;
	return 0;
}
