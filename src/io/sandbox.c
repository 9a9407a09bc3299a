/* sandbox.c: placeholder; its subsystem has not landed yet. */
typedef int sandbox_placeholder;
