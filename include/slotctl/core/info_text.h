/* info_text.h: reading fields of INFO-style replies ("field:value" lines, as
 * INFO and CLUSTER INFO return them). Pure. */
#ifndef SLOTCTL_INFO_TEXT_H
#define SLOTCTL_INFO_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Copies the value of the line "field:value" of text into buf (always
 * NUL-terminated). Returns true when the field is present; otherwise buf is
 * "" and false. */
bool info_get(const char *text, const char *field, char *buf, size_t size);

/* The field as a whole number, or def when absent or not a number. */
long long info_get_ll(const char *text, const char *field, long long def);

/* Sizes no server reports truthfully beyond: 1 PiB. */
#define INFO_MAX_BYTES (1LL << 50)

/* The field as a size in bytes (used_memory, maxmemory): a whole number from
 * 0 to INFO_MAX_BYTES, or -1 when absent or out of that range, so sums of
 * sizes cannot overflow. */
long long info_get_bytes(const char *text, const char *field);

/* Which server an INFO server text comes from, and its version. */
struct server_version {
	bool valkey;              /* "server_name:valkey" or a valkey_version line */
	int major, minor, patch;  /* valkey_version on Valkey (whose redis_version stays
	                             7.2.4 for clients), else redis_version; 0 when absent */
};

/* Reads the server's kind and version from INFO server text into *out. */
void info_server_version(const char *text, struct server_version *out);

/* True when v is at least major.minor. */
bool server_version_at_least(const struct server_version *v, int major, int minor);

/* One replica as its master's INFO replication lists it
 * ("slave0:ip=10.0.0.2,port=6379,state=online,offset=1234,lag=0"). */
struct info_replica {
	char ip[64];
	int port;
	char state[16];           /* "online", "wait_bgsave", "send_bulk", ... ("" unknown) */
	long long offset;         /* the replication offset it acknowledged, -1 unknown */
	long long lag_s;          /* seconds since its last acknowledgement, -1 unknown */
};

/* Replicas of one master kept at most (a master with more: the first ones). */
#define INFO_REPLICAS_MAX 8

/* Reads the replicas an INFO replication text lists (lines "slaveN:k=v,...")
 * into out, at most max, in order; a field missing or not a number is left
 * unknown, other keys ignored. Returns how many were read. */
int info_replicas(const char *text, struct info_replica *out, int max);

#endif
