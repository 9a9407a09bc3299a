/* trickle.h: a fault injector for tests: a TCP relay on 127.0.0.1 in front
 * of a real node that passes requests on at once and the node's replies one
 * byte at a time, to show that a command timeout bounds a whole reply, not
 * each read of it. */
#ifndef SLOTCTL_TEST_TRICKLE_H
#define SLOTCTL_TEST_TRICKLE_H

#include <sys/types.h>

/* Starts the relay in a child process in front of 127.0.0.1:node_port,
 * passing replies on one byte every delay_ms. Sets *listen_port to the
 * relay's ephemeral port. Fails the test when it cannot start. */
pid_t trickle_start(int node_port, int delay_ms, int *listen_port);

/* Stops the relay started by trickle_start (its connections die with it). */
void trickle_stop(pid_t relay);

#endif
