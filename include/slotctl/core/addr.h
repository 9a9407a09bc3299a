/* addr.h: node addresses as people and slotctl write them: "host:port", and
 * "[v6]:port" for IPv6. Pure: parsing and formatting only. */
#ifndef SLOTCTL_ADDR_H
#define SLOTCTL_ADDR_H

#include <stddef.h>
#include "slotctl/core/error.h"

/* Room for an address as text, its NUL included: "host:port", or
 * "[host]:port" for IPv6, with a host of up to 255 bytes (a DNS name's
 * limit; CLUSTER NODES hostnames are held to it as well). */
#define ADDR_TEXT_MAX 300

/* Splits "host:port" (also "[v6]:port"). Returns -1 with an SC_EXIT_USAGE
 * error naming the text when malformed; host and port are written only on
 * success. */
int addr_parse(const char *text, char *host, size_t host_size, int *port, struct sc_error *err);

/* Writes "host:port", or "[host]:port" when host is an IPv6 address, so that
 * addr_parse reads it back. */
void addr_format(char *buf, size_t size, const char *host, int port);

#endif
