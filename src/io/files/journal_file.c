/* journal_file.c: the journal on disk (see slotctl/io/journal_file.h). Each record is
 * appended as one line in a single write(2) on an O_APPEND descriptor (a
 * series of records as their lines in one write), so a
 * killed process loses nothing and a crash leaves at worst a torn last line
 * that the reader ignores. Records appended with sync are on disk when the
 * call returns; the others are flushed by a background thread within
 * JOURNAL_FLUSH_INTERVAL_MS (group commit: one fdatasync covers every record
 * written meanwhile; closing ends the flusher's rest at once). */
#include "slotctl/io/journal_file.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct journal_file {
	int fd;
	char path[1024];
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t flusher;
	bool has_flusher;
	bool dirty;               /* written since the last fdatasync */
	bool closing;
};

void journal_path_for_plan(const char *plan_path, char *buf, size_t size)
{
	snprintf(buf, size, "%s.journal", plan_path);
}

/* Reads the journal at path whole: 0, 1 when there is none, or -1. Bounded
 * like every file slotctl reads (a full run of 16384 slots writes a few tens
 * of MB); a symbolic link is refused, as when appending. */
static int read_all(const char *path, char **text, size_t *len, struct sc_error *err)
{
	return file_read(path, "journal", JOURNAL_MAX_BYTES, FILE_READ_NO_SYMLINK | FILE_READ_MISSING_OK,
		text, len, err);
}

int journal_load(const char *path, struct journal_state *st, struct sc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	journal_state_init(st);
	rc = read_all(path, &text, &len, err);
	if (rc != 0)
		return rc;
	rc = journal_replay(st, text, len, err);
	free(text);
	if (rc != 0) {
		journal_state_release(st);
		return sc_error_prefix(err, "malformed journal '%s'", path);
	}
	return 0;
}

/* Rests (f->lock held) until JOURNAL_FLUSH_INTERVAL_MS have passed since
 * the flush that began at start_ms, or until the file closes: a closing run
 * must not wait out the rest (close syncs what is left itself). */
static void rest_locked(struct journal_file *f, long long start_ms)
{
	long long until_ms = start_ms + JOURNAL_FLUSH_INTERVAL_MS;

	while (!f->closing) {
		long long now_ms = sc_clock_ms();
		struct timespec ts;

		if (now_ms >= until_ms)
			return;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (until_ms - now_ms) / 1000;
		ts.tv_nsec += (long)((until_ms - now_ms) % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&f->wake, &f->lock, &ts);
	}
}

/* The background flush: waits for dirty records, syncs them, then rests for
 * the interval so that many records share one fdatasync. */
static void *flusher_main(void *arg)
{
	struct journal_file *f = arg;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		long long start_ms;

		while (!f->dirty && !f->closing)
			pthread_cond_wait(&f->wake, &f->lock);
		if (f->closing)
			break;
		f->dirty = false;
		start_ms = sc_clock_ms();
		pthread_mutex_unlock(&f->lock);
		fdatasync(f->fd);
		pthread_mutex_lock(&f->lock);
		rest_locked(f, start_ms);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

int journal_file_open(const char *path, struct journal_file **out, struct sc_error *err)
{
	struct journal_file *f = calloc(1, sizeof(*f));
	pthread_condattr_t attr;

	if (!f)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	/* append-only, never through a symbolic link (file_open_append) */
	f->fd = file_open_append(path, "journal", err);
	if (f->fd < 0) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	pthread_mutex_init(&f->lock, NULL);
	/* the rest between flushes is timed on the monotonic clock */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&f->wake, &attr);
	pthread_condattr_destroy(&attr);
	f->has_flusher = pthread_create(&f->flusher, NULL, flusher_main, f) == 0;
	*out = f;
	return 0;
}

static int write_line(struct journal_file *f, const char *line, size_t len, struct sc_error *err)
{
	while (len > 0) {
		ssize_t n = write(f->fd, line, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot write journal '%s': %s",
				f->path, strerror(errno));
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sync_locked(struct journal_file *f, struct sc_error *err)
{
	f->dirty = false;
	if (fdatasync(f->fd) != 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot flush journal '%s': %s",
			f->path, strerror(errno));
	return 0;
}

/* After a write, f->lock held: synced now (sync, or no flusher thread),
 * else left to the flusher. */
static int written_locked(struct journal_file *f, bool sync, struct sc_error *err)
{
	if (sync || !f->has_flusher)
		return sync_locked(f, err);
	f->dirty = true;
	pthread_cond_signal(&f->wake);
	return 0;
}

int journal_file_append(struct journal_file *f, const struct journal_record *r, bool sync,
	struct sc_error *err)
{
	char *line = journal_encode(r, err);
	int rc;

	if (!line)
		return -1;
	pthread_mutex_lock(&f->lock);
	rc = write_line(f, line, strlen(line), err);
	if (rc == 0)
		rc = written_locked(f, sync, err);
	pthread_mutex_unlock(&f->lock);
	free(line);
	return rc;
}

/* The lines of rs[0..n) in one buffer (*len bytes), or NULL with err. */
static char *encode_many(const struct journal_record *rs, size_t n, size_t *len, struct sc_error *err)
{
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	for (size_t i = 0; i < n; i++) {
		char *line = journal_encode(&rs[i], err);
		size_t l;

		if (!line) {
			free(buf);
			return NULL;
		}
		l = strlen(line);
		if (*len + l + 1 > cap) {
			size_t grown = 2 * cap > *len + l + 1 ? 2 * cap : *len + l + 4096;
			char *b = realloc(buf, grown);

			if (!b) {
				free(line);
				free(buf);
				sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
				return NULL;
			}
			buf = b;
			cap = grown;
		}
		memcpy(buf + *len, line, l);
		*len += l;
		free(line);
	}
	return buf;
}

int journal_file_append_many(struct journal_file *f, const struct journal_record *rs, size_t n,
	struct sc_error *err)
{
	for (size_t start = 0; start < n; start += JOURNAL_BATCH_RECORDS) {
		size_t count = n - start < JOURNAL_BATCH_RECORDS ? n - start : JOURNAL_BATCH_RECORDS, len;
		char *lines = encode_many(rs + start, count, &len, err);
		int rc;

		if (!lines)
			return -1;
		pthread_mutex_lock(&f->lock);
		rc = write_line(f, lines, len, err);
		if (rc == 0)
			rc = written_locked(f, false, err);
		pthread_mutex_unlock(&f->lock);
		free(lines);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int journal_file_sync(struct journal_file *f, struct sc_error *err)
{
	int rc;

	pthread_mutex_lock(&f->lock);
	rc = sync_locked(f, err);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

void journal_file_close(struct journal_file *f)
{
	if (!f)
		return;
	if (f->has_flusher) {
		pthread_mutex_lock(&f->lock);
		f->closing = true;
		pthread_cond_signal(&f->wake);
		pthread_mutex_unlock(&f->lock);
		pthread_join(f->flusher, NULL);
	}
	fdatasync(f->fd);
	close(f->fd);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
