/* topology.c: placeholder; its subsystem has not landed yet. */
typedef int topology_placeholder;
