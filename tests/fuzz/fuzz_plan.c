/* fuzz_plan.c: libFuzzer target for the plan loader's parser (plan_parse,
 * what `show`, `apply` and `resume` read a plan file with): any input is
 * refused with an error or accepted, and an accepted plan serialises to text
 * that parses again to the same bytes (plan_serialize is deterministic). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan p, again;
	struct sc_error err;
	char *text, *text2;

	if (plan_parse((const char *)data, size, &p, &err) < 0)
		return 0;
	plan_move_count(&p);
	text = plan_serialize(&p, &err);
	if (text) {
		if (plan_parse(text, strlen(text), &again, &err) < 0) {
			fprintf(stderr, "a plan that parsed does not parse once serialised: %s\n%s\n", err.msg, text);
			abort();
		}
		text2 = plan_serialize(&again, &err);
		if (text2 && strcmp(text, text2) != 0) {
			fprintf(stderr, "serialising a parsed plan twice gives other bytes:\n%s\n---\n%s\n", text, text2);
			abort();
		}
		free(text2);
		plan_release(&again);
		free(text);
	}
	plan_release(&p);
	return 0;
}
