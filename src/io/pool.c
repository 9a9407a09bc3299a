/* pool.c: placeholder; its subsystem has not landed yet. */
typedef int pool_placeholder;
