/* keyslot.h: Redis Cluster key hashing: CRC16 (XMODEM) of the key, or of its
 * first non-empty {hash tag}, modulo 16384. Pure, binary-safe. */
#ifndef SLOTCTL_KEYSLOT_H
#define SLOTCTL_KEYSLOT_H

#include <stddef.h>
#include <stdint.h>

#define SC_SLOTS 16384

/* CRC16-CCITT (XMODEM) of len bytes at buf. */
uint16_t keyslot_crc16(const void *buf, size_t len);

/* The hash slot (0..16383) of the len-byte key at key, honouring hash tags. */
int keyslot_of(const void *key, size_t len);

#endif
