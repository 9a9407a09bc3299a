/* repair_rules.c: placeholder; its subsystem has not landed yet. */
typedef int repair_rules_placeholder;
