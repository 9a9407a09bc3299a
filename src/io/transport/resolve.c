/* resolve.c: host names to numeric addresses within a time bound (see
 * slotctl/io/resolve.h). The lookup runs on a detached helper thread that
 * shares one job with the caller; whichever of the two lets go of it last
 * frees it, so a caller that stopped waiting leaves nothing behind. */
#include "slotctl/io/resolve.h"
#include "slotctl/core/exitcode.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct lookup_job {
	pthread_mutex_t lock;
	pthread_cond_t finished;
	int refs;                 /* the caller and the helper */
	bool done;
	int rc;
	resolve_lookup_fn lookup;
	char host[256];
	struct resolved result;
	char why[160];
};

static void job_release(struct lookup_job *j)
{
	bool last;

	pthread_mutex_lock(&j->lock);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (last) {
		pthread_cond_destroy(&j->finished);
		pthread_mutex_destroy(&j->lock);
		free(j);
	}
}

static void *lookup_thread(void *arg)
{
	struct lookup_job *j = arg;
	struct resolved found = { 0 };
	char why[sizeof(j->why)] = "";
	int rc = j->lookup(j->host, &found, why, sizeof(why));

	pthread_mutex_lock(&j->lock);
	j->rc = rc;
	j->result = found;
	snprintf(j->why, sizeof(j->why), "%s", why);
	j->done = true;
	pthread_cond_signal(&j->finished);
	pthread_mutex_unlock(&j->lock);
	job_release(j);
	return NULL;
}

/* getaddrinfo, every TCP address of host once, numeric. */
static int getaddrinfo_lookup(const char *host, struct resolved *out, char *why, size_t why_size)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	int rc = getaddrinfo(host, NULL, &hints, &res);

	out->count = 0;
	if (rc != 0) {
		snprintf(why, why_size, "%s", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && out->count < RESOLVE_MAX_ADDRS; ai = ai->ai_next) {
		char *slot = out->addr[out->count];
		bool seen = false;

		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, slot, RESOLVE_ADDR_LEN, NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		for (int k = 0; k < out->count && !seen; k++)
			seen = strcmp(out->addr[k], slot) == 0;
		if (!seen)
			out->count++;
	}
	freeaddrinfo(res);
	if (out->count == 0) {
		snprintf(why, why_size, "no TCP address");
		return -1;
	}
	return 0;
}

static bool is_numeric(const char *host)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
	struct addrinfo *res;

	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	freeaddrinfo(res);
	return true;
}

static struct timespec deadline_after(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static struct lookup_job *job_new(resolve_lookup_fn lookup, const char *host)
{
	struct lookup_job *j = calloc(1, sizeof(*j));
	pthread_condattr_t attr;

	if (!j)
		return NULL;
	pthread_mutex_init(&j->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&j->finished, &attr);
	pthread_condattr_destroy(&attr);
	j->refs = 2;
	j->lookup = lookup;
	snprintf(j->host, sizeof(j->host), "%s", host);
	return j;
}

/* Starts the helper, detached. */
static int job_start(struct lookup_job *j)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, lookup_thread, j);
	pthread_attr_destroy(&attr);
	return rc;
}

int resolve_host_with(resolve_lookup_fn lookup, const char *host, int timeout_ms, struct resolved *out,
	struct sc_error *err)
{
	struct lookup_job *j;
	struct timespec deadline;
	int rc = 0;

	if (strlen(host) >= sizeof(j->host))
		return sc_error_set(err, SC_EXIT_USAGE, "cannot resolve '%.40s...': the name is too long", host);
	if (is_numeric(host)) {
		out->count = 1;
		snprintf(out->addr[0], RESOLVE_ADDR_LEN, "%s", host);
		return 0;
	}
	if (!(j = job_new(lookup, host)))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	if (job_start(j) != 0) {
		job_release(j);
		job_release(j);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot resolve '%s': cannot start a thread", host);
	}
	deadline = deadline_after(timeout_ms);
	pthread_mutex_lock(&j->lock);
	while (!j->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&j->finished, &j->lock, &deadline);
	if (!j->done)
		sc_error_set(err, SC_EXIT_UNREACHABLE, "cannot resolve '%s': no answer within %d ms", host, timeout_ms);
	else if (j->rc != 0)
		sc_error_set(err, SC_EXIT_UNREACHABLE, "cannot resolve '%s': %s", host, j->why);
	else
		*out = j->result;
	rc = j->done ? j->rc : -1;
	pthread_mutex_unlock(&j->lock);
	job_release(j);
	return rc == 0 ? 0 : -1;
}

int resolve_host(const char *host, int timeout_ms, struct resolved *out, struct sc_error *err)
{
	return resolve_host_with(getaddrinfo_lookup, host, timeout_ms, out, err);
}
