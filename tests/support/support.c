/* support.c: placeholder until the integration support lands. */
typedef int support_placeholder;
