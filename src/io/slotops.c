/* slotops.c: placeholder; its subsystem has not landed yet. */
typedef int slotops_placeholder;
