/* journal_lock.c: one run per journal at a time (see journal_lock_acquire in
 * slotctl/io/journal_file.h). The lock is an flock(2) on "<journal>.lock", a file
 * beside the journal that says who holds it (pid, host, start time,
 * command) so that whoever is refused can name the holder. The kernel drops
 * an flock when its holder exits in any way, SIGKILL included, so a dead
 * run never blocks the next one; the file it leaves only says who held it
 * last. A sibling file rather than the journal itself: apply takes the lock
 * before it knows whether it will start (a refused apply writes no
 * journal), and the journal stays pure JSON lines. */
#include "slotctl/io/journal_file.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/json_doc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HOLDER_MAX 4096           /* bound on what is read back from a lock file */
#define HOLDER_WAIT_MS 200        /* a new holder writes its name right after locking */

struct journal_lock {
	int fd;
	char path[1100];
};

void journal_lock_path(const char *journal_path, char *buf, size_t size)
{
	snprintf(buf, size, "%s.lock", journal_path);
}

/* The holder's description: one JSON object. NULL on OOM. */
static char *holder_text(const char *command)
{
	cJSON *o = cJSON_CreateObject();
	char host[256] = "", started[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	char *text = NULL;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	if (gmtime_r(&now, &tm))
		strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (o && json_add_number(o, "pid", (double)getpid()) &&
	    cJSON_AddStringToObject(o, "host", host) && cJSON_AddStringToObject(o, "started", started) &&
	    cJSON_AddStringToObject(o, "command", command ? command : "slotctl"))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* Reads the holder's description from fd into buf ("" when empty). */
static void read_holder(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

/* The refusal naming the holder described by text (or saying it is unknown). */
static int refuse_held(const char *journal_path, const char *lock_path, const char *text,
	struct sc_error *err)
{
	cJSON *o = cJSON_Parse(text);
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(o, "host");
	const cJSON *started = cJSON_GetObjectItemCaseSensitive(o, "started");
	const cJSON *command = cJSON_GetObjectItemCaseSensitive(o, "command");
	int rc;

	if (cJSON_IsNumber(pid) && cJSON_IsString(host) && cJSON_IsString(started) && cJSON_IsString(command))
		rc = sc_error_set(err, SC_EXIT_REFUSED,
			"the journal '%s' is in use by pid %d on '%s' since %s (%s); one run at a time: "
			"wait for it to end, or stop it and run 'slotctl resume' or 'slotctl abort'", journal_path,
			pid->valueint, host->valuestring, started->valuestring, command->valuestring);
	else
		rc = sc_error_set(err, SC_EXIT_REFUSED,
			"the journal '%s' is in use by another process (its lock '%s' does not say which); "
			"one run at a time: wait for it to end", journal_path, lock_path);
	cJSON_Delete(o);
	return rc;
}

/* Records the holder in the locked file. Best effort: the lock is what counts. */
static void write_holder(int fd, const char *command)
{
	char *text = holder_text(command);

	if (text && ftruncate(fd, 0) == 0) {
		ssize_t n = pwrite(fd, text, strlen(text), 0);

		(void)n; /* a holder that could not write its name still holds the lock */
	}
	cJSON_free(text);
}

/* True when fd is still the file at path (a releasing holder unlinks it,
 * so a lock taken on the old file after that guards nothing). */
static bool still_linked(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* One attempt: 0 locked (holder written), 1 to try again (the file was
 * replaced meanwhile), -1 with err (refused naming the holder, or an I/O
 * error). */
static int try_lock(struct journal_lock *l, const char *journal_path, const char *command,
	struct sc_error *err)
{
	char holder[HOLDER_MAX];
	long long deadline;

	l->fd = open(l->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (l->fd < 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot open the lock '%s' of journal '%s': %s",
			l->path, journal_path, errno == ELOOP ? "it is a symbolic link" : strerror(errno));
	if (flock(l->fd, LOCK_EX | LOCK_NB) == 0) {
		if (still_linked(l->fd, l->path)) {
			write_holder(l->fd, command);
			return 0;
		}
		close(l->fd);
		return 1;
	}
	if (errno != EWOULDBLOCK) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "cannot lock '%s': %s", l->path, strerror(errno));
		close(l->fd);
		return -1;
	}
	deadline = sc_clock_ms() + HOLDER_WAIT_MS;
	read_holder(l->fd, holder, sizeof(holder));
	while (!holder[0] && sc_clock_ms() < deadline) {
		sc_sleep_ms(10);
		read_holder(l->fd, holder, sizeof(holder));
	}
	close(l->fd);
	return refuse_held(journal_path, l->path, holder, err);
}

int journal_lock_acquire(const char *journal_path, const char *command, struct journal_lock **out,
	struct sc_error *err)
{
	struct journal_lock *l = calloc(1, sizeof(*l));
	int rc = 1;

	if (!l)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	journal_lock_path(journal_path, l->path, sizeof(l->path));
	for (int attempt = 0; rc == 1 && attempt < 100; attempt++)
		rc = try_lock(l, journal_path, command, err);
	if (rc == 0) {
		*out = l;
		return 0;
	}
	if (rc == 1)
		sc_error_set(err, SC_EXIT_PROBLEMS, "cannot lock '%s': it keeps being replaced", l->path);
	free(l);
	return -1;
}

void journal_lock_release(struct journal_lock *l)
{
	if (!l)
		return;
	unlink(l->path);
	close(l->fd);
	free(l);
}
