/* check_run.h: the main() that every Check test program shares: run one
 * suite with Check's normal report and exit 0 only when every test passed.
 * Header only, so the unit tests (which do not link the support library)
 * use it too. */
#ifndef SLOTCTL_TEST_CHECK_RUN_H
#define SLOTCTL_TEST_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

/* Runs every test of s (which it takes over and frees). Returns EXIT_SUCCESS
 * when none failed, else EXIT_FAILURE: the value for main() to return. */
static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
