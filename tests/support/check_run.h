/* check_run.h: the main() that every Check test program shares: run one
 * suite with Check's normal report and exit 0 only when every test passed.
 * The run gets a private temp directory (SLOTCTL_TEST_TMP) for the tests'
 * files and sandboxes, removed at the end even when a test failed (Check
 * ends a failed test's process with _exit, so its own clean-up never runs).
 * Header only, so the unit tests (which do not link the support library)
 * use it too. */
#ifndef SLOTCTL_TEST_CHECK_RUN_H
#define SLOTCTL_TEST_CHECK_RUN_H

#include "slotctl/io/file_text.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>

/* Runs every test of s (which it takes over and frees). Returns EXIT_SUCCESS
 * when none failed, else EXIT_FAILURE: the value for main() to return. */
static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	char base[] = "/tmp/slotctl-test-run-XXXXXX";
	bool own = mkdtemp(base) != NULL && setenv("SLOTCTL_TEST_TMP", base, 1) == 0;
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (own)
		file_remove_tree(base);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
