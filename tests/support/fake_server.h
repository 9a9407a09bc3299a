/* fake_server.h: a tiny RESP server for tests that need a node to answer
 * what no real redis-server would: more keys than asked, huge array or bulk
 * headers, replies dripped a byte at a time. It listens on 127.0.0.1 on an
 * ephemeral port, serves each connection on a thread of its own, and hands
 * every command to the test's handler; fake_answer_default answers the
 * commands slotctl sends before the hostile one as a plausible one-master
 * cluster owning every slot (CLUSTER NODES, CLUSTER INFO, INFO, CONFIG GET,
 * an error to CLUSTER SLOT-STATS, ...). */
#ifndef SLOTCTL_TEST_FAKE_SERVER_H
#define SLOTCTL_TEST_FAKE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct fake_server;
struct fake_client; /* one accepted connection */

/* One command as received: argv[i] is NUL-terminated (binary-safe with
 * len[i]). The handler answers with fake_send* (or not at all) and returns
 * false to close the connection. */
typedef bool (*fake_handler)(struct fake_client *fc, int argc, char **argv, const size_t *len, void *ctx);

/* Starts a server whose connections call handler(ctx) for each command.
 * Aborts the test when it cannot listen. */
struct fake_server *fake_start(fake_handler handler, void *ctx);

/* The port it listens on. */
int fake_port(const struct fake_server *fs);

/* Closes every connection, stops the threads and frees fs. NULL is fine. */
void fake_stop(struct fake_server *fs);

/* Sends raw bytes (or printf-formatted text); false once the peer is gone
 * or the server is stopping. */
bool fake_send(struct fake_client *fc, const void *buf, size_t len);
bool fake_sendf(struct fake_client *fc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The server this client came in on (for its port). */
const struct fake_server *fake_client_server(const struct fake_client *fc);

/* Case-insensitive: argv[i] equals word. */
bool fake_arg_is(int argc, char **argv, int i, const char *word);

/* Answers what a healthy one-master cluster owning all 16384 slots (no
 * keys) would: PING, CLUSTER NODES / MYID / INFO / SLOTS / COUNTKEYSINSLOT /
 * GETKEYSINSLOT, INFO, CONFIG GET, DBSIZE, ROLE, MEMORY USAGE; an error to
 * CLUSTER SLOT-STATS (as servers before 8.2 do) and to anything else. */
bool fake_answer_default(struct fake_client *fc, int argc, char **argv, const size_t *len);

/* The 40-character node id the default answers give. */
#define FAKE_NODE_ID "fa4e000000000000000000000000000000000001"

#endif
