/* executor.c: placeholder; its subsystem has not landed yet. */
typedef int executor_placeholder;
