/* fuzz_journal.c: libFuzzer target for the journal reader (journal_replay:
 * what `resume`, `abort` and `fix --journal` fold a journal with): any input
 * is refused with an error naming the line or folded into a state whose
 * queries then hold. */
#include <stdint.h>
#include <stdlib.h>
#include "slotctl/core/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_state st;
	struct sc_error err;

	journal_state_init(&st);
	if (journal_replay(&st, (const char *)data, size, &err) == 0) {
		journal_state_unfinished(&st);
		journal_state_finished(&st);
		for (size_t i = 0; i < st.count; i++) {
			const struct journal_slot *s = journal_state_slot(&st, st.slots[i].slot);

			if (!s || s->slot != st.slots[i].slot)
				abort(); /* the index must point at the slot's own entry */
			journal_slot_settled(s);
			journal_phase_name(s->phase);
		}
	}
	journal_state_release(&st);
	return 0;
}
