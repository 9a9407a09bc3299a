/* exitcode.c: the table behind enum sc_exit, for help, README and man page. */
#include "slotctl/core/exitcode.h"
#include "slotctl/core/error.h"

#include <stddef.h>

static const struct sc_exit_info exit_table[SC_EXIT_COUNT] = {
	{ SC_EXIT_OK, "ok", "healthy, nothing to do, or the operation succeeded" },
	{ SC_EXIT_PROBLEMS, "problems", "problems found, or the operation failed" },
	{ SC_EXIT_USAGE, "usage", "usage error or bad input" },
	{ SC_EXIT_UNREACHABLE, "unreachable", "a node could not be reached, or authentication failed" },
	{ SC_EXIT_STALE_PLAN, "stale-plan", "the plan does not match the live cluster; make a new plan" },
	{ SC_EXIT_INTERRUPTED, "interrupted", "interrupted; run resume or abort to finish" },
	{ SC_EXIT_REFUSED, "refused", "refused by a safety check; nothing was changed" },
	{ SC_EXIT_UNREPAIRED, "unrepaired", "fix left some states unrepaired; they are listed" },
	{ SC_EXIT_MOVES_PLANNED, "moves-planned", "plan --detailed-exitcode: moves were planned (no error)" },
};

const struct sc_exit_info *sc_exit_lookup(int code)
{
	if (code < 0 || code >= SC_EXIT_COUNT)
		return NULL;
	return &exit_table[code];
}

const struct sc_exit_info *sc_exit_table(void)
{
	return exit_table;
}

int sc_exit_code(const struct sc_error *err)
{
	if (!err || err->code == SC_EXIT_OK || !sc_exit_lookup(err->code))
		return SC_EXIT_PROBLEMS;
	return err->code;
}
