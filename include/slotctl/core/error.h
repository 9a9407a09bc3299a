/* error.h: errors as values. Library functions return 0 on success or -1 on
 * failure and fill a struct sc_error; only the command layer prints it. The
 * error's code is the exit code the command should end with (enum sc_exit). */
#ifndef SLOTCTL_ERROR_H
#define SLOTCTL_ERROR_H

#include <stddef.h>

#define SC_ERROR_MSG_MAX 1024

struct sc_error {
	int code;                   /* an enum sc_exit value; 0 when unset */
	char msg[SC_ERROR_MSG_MAX]; /* lowercase, no final period, subject first */
};

/* Clears err (code 0, empty message). err may be NULL. */
void sc_error_clear(struct sc_error *err);

/* Sets err's code and printf-formatted message; returns -1 so callers can
 * write `return sc_error_set(err, ...)`. err may be NULL. */
int sc_error_set(struct sc_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends printf-formatted context and ": " to err's message, keeping its
 * code; returns -1. err may be NULL. */
int sc_error_prefix(struct sc_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
