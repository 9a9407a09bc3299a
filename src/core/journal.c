/* journal.c: placeholder; its subsystem has not landed yet. */
typedef int journal_placeholder;
