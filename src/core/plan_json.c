/* plan_json.c: placeholder; its subsystem has not landed yet. */
typedef int plan_json_placeholder;
