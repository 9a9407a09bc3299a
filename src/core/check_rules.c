/* check_rules.c: placeholder; its subsystem has not landed yet. */
typedef int check_rules_placeholder;
