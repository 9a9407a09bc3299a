/* snapshot.c: placeholder; its subsystem has not landed yet. */
typedef int snapshot_placeholder;
