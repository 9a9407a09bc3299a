/* error.c: filling struct sc_error values (see slotctl/core/error.h). */
#include "slotctl/core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sc_error_clear(struct sc_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

int sc_error_set(struct sc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int sc_error_prefix(struct sc_error *err, const char *fmt, ...)
{
	char context[SC_ERROR_MSG_MAX];
	char old[SC_ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", context, old);
	return -1;
}
