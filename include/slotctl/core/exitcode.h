/* exitcode.h: the one table of slotctl's exit codes. Numbers are stable and
 * never reused; README.md and man/slotctl.1 (EXIT STATUS) list the same table,
 * and a unit test checks that they agree. */
#ifndef SLOTCTL_EXITCODE_H
#define SLOTCTL_EXITCODE_H

enum sc_exit {
	SC_EXIT_OK = 0,          /* healthy, or the operation succeeded */
	SC_EXIT_PROBLEMS = 1,    /* problems found, or the operation failed */
	SC_EXIT_USAGE = 2,       /* usage error or bad input */
	SC_EXIT_UNREACHABLE = 3, /* cannot reach a node, or authentication failed */
	SC_EXIT_STALE_PLAN = 4,  /* the plan does not match the live cluster */
	SC_EXIT_INTERRUPTED = 5, /* interrupted; the journal allows resume or abort */
	SC_EXIT_REFUSED = 6,     /* refused by a safety check; nothing was changed */
	SC_EXIT_UNREPAIRED = 7,  /* fix left some states unrepaired (listed) */
	SC_EXIT_MOVES_PLANNED = 8, /* plan --detailed-exitcode: moves were planned (not an error) */
};

#define SC_EXIT_COUNT 9

struct sc_exit_info {
	int code;
	const char *name;        /* e.g. "unreachable" */
	const char *meaning;     /* one line for README and man page */
};

/* Returns the table entry for code, or NULL for an unknown code. */
const struct sc_exit_info *sc_exit_lookup(int code);

/* Returns the whole table (SC_EXIT_COUNT entries, ordered by code). */
const struct sc_exit_info *sc_exit_table(void);

struct sc_error;

/* The exit code for a failure err reports: its code when that is one of the
 * table's other than SC_EXIT_OK, else SC_EXIT_PROBLEMS. Never 0: the one way
 * the command layer turns an error into an exit code. */
int sc_exit_code(const struct sc_error *err);

#endif
