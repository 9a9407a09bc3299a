/* planner.c: placeholder; its subsystem has not landed yet. */
typedef int planner_placeholder;
