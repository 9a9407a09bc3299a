/* conn.c: placeholder; its subsystem has not landed yet. */
typedef int conn_placeholder;
