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

#endif
