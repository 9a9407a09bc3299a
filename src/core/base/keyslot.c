/* keyslot.c: CRC16 (XMODEM) and the key -> hash slot rule of the Redis
 * Cluster specification, including {hash tags}. */
#include "slotctl/core/keyslot.h"

uint16_t keyslot_crc16(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int bit = 0; bit < 8; bit++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

int keyslot_of(const void *key, size_t len)
{
	const char *k = key;
	size_t open, close;

	for (open = 0; open < len && k[open] != '{'; open++)
		;
	if (open == len)
		return keyslot_crc16(k, len) & (SC_SLOTS - 1);
	for (close = open + 1; close < len && k[close] != '}'; close++)
		;
	/* no closing brace, or an empty tag "{}": hash the whole key */
	if (close == len || close == open + 1)
		return keyslot_crc16(k, len) & (SC_SLOTS - 1);
	return keyslot_crc16(k + open + 1, close - open - 1) & (SC_SLOTS - 1);
}
