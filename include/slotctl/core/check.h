/* check.h: the diagnosis behind `slotctl check`. From a snapshot (what every
 * node says) the rules produce a report: a list of findings, each with a
 * severity, a stable machine code, the nodes and slot ranges involved and a
 * message a person can act on; plus the exit-code rule over that report.
 * Pure: no sockets, no printing. The key probe's I/O lives in
 * src/io/cluster/check_probe.c; its counts are judged here (check_keys_judge). */
#ifndef SLOTCTL_CHECK_H
#define SLOTCTL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/addr.h"
#include "slotctl/core/error.h"
#include "slotctl/core/slotset.h"
#include "slotctl/core/slotmig.h"
#include "slotctl/core/snapshot.h"
#include "slotctl/core/topology.h"

/* 2.0: a finding's node names its "host:port" "address" (was "addr") */
#define CHECK_FORMAT_VERSION "2.0"

/* Settings outside these bounds are warned about (cluster-node-timeout). */
#define CHECK_NODE_TIMEOUT_MIN_MS 5000
#define CHECK_NODE_TIMEOUT_MAX_MS 15000

/* A replica its master lists online that has acknowledged nothing for this
 * long is warned about (replicas acknowledge every second). */
#define CHECK_REPLICA_SILENT_S 10

enum check_severity { CHECK_OK = 0, CHECK_WARN = 1, CHECK_ERR = 2 };

/* One stable finding code. An ok finding carries the code of the problem it
 * rules out ("uncovered-slots" with severity ok: every slot is covered). */
struct check_code_info {
	const char *code;        /* "open-slot" */
	bool transient;          /* expected for a moment after a migration: --wait waits it out */
	const char *meaning;     /* one line for the man page */
};

struct check_node_ref {
	char id[SC_NODE_ID_LEN + 1]; /* "" when unknown */
	char addr[ADDR_TEXT_MAX];              /* "host:port", "" when unknown */
};

struct check_finding {
	enum check_severity severity;
	const char *code;            /* one of check_codes(), static */
	struct check_node_ref *nodes; /* the nodes involved, the one to act on first */
	size_t node_count;
	struct slotset slots;        /* the slots involved; empty when none */
	char message[640];           /* lowercase, names nodes ('addr' (id8)) and ranges */
};

struct check_summary {
	int nodes;                   /* nodes in the snapshot */
	int reachable;
	int masters;                 /* in the reference view */
	int replicas;
	int slots_covered;           /* slots with an owner in the reference view */
	long long keys;              /* sum of DBSIZE over masters; -1 unknown */
	char reference[ADDR_TEXT_MAX];         /* address of the reference view, "" when none */
};

struct check_report {
	struct check_finding *findings; /* in rule order */
	size_t count, cap;
	struct check_summary summary;
};

/* The table of finding codes (*count entries). */
const struct check_code_info *check_codes(size_t *count);

/* The table entry for code, or NULL. */
const struct check_code_info *check_code_lookup(const char *code);

/* "ok", "warn", "err". */
const char *check_severity_name(enum check_severity s);

/* Runs every rule over s and fills out (zeroed first; caller releases it with
 * check_report_release). Returns 0, or -1 with an error on OOM (out is then
 * released). Needs no I/O: unreachable nodes are findings, not failures. */
int check_evaluate(const struct snapshot *s, struct check_report *out, struct sc_error *err);

/* Appends a finding with a printf-formatted message and no nodes or slots;
 * returns it (owned by r, valid until the next append), or NULL on OOM. */
struct check_finding *check_report_add(struct check_report *r, enum check_severity sev,
	const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Appends node (id, addr; either may be "" or NULL) to f. Returns 0 or -1 on OOM. */
int check_finding_add_node(struct check_finding *f, const char *id, const char *addr);

/* Removes the ok finding of code, if any (a probe that finds a problem the
 * rules had ruled out). */
void check_report_drop_ok(struct check_report *r, const char *code);

/* Number of findings with this severity. */
size_t check_report_count(const struct check_report *r, enum check_severity sev);

/* True when some finding has this code and severity. */
bool check_report_has(const struct check_report *r, const char *code, enum check_severity sev);

/* True when no problem (error or warning) has a transient code: views have
 * converged and no slot is left open. --wait polls until this holds. */
bool check_report_settled(const struct check_report *r);

/* The exit code for r: SC_EXIT_UNREACHABLE (3) when any node could not be
 * reached (the diagnosis is incomplete), else SC_EXIT_PROBLEMS (1) when any
 * finding is an error, or a warning and strict is set, else SC_EXIT_OK (0). */
int check_exit_code(const struct check_report *r, bool strict);

/* Serialises r as the versioned `check --json` document (format_version
 * CHECK_FORMAT_VERSION, seed, exit_code, settled, cluster summary, counts,
 * every finding with code, severity, nodes, slots and message). Returns
 * indented JSON the caller frees, or NULL with an error on OOM. */
char *check_report_json(const struct check_report *r, const char *seed, int exit_code, bool settled,
	struct sc_error *err);

/* Frees every finding and zeroes r. Safe on a zeroed report. */
void check_report_release(struct check_report *r);

/* ---- keys where they do not belong ------------------------------------
 * src/io/cluster/check_probe.c counts keys on every reachable master; the rules
 * below (src/core/check/check_rules_keys.c) say which counts to gather and judge
 * them. A master may hold keys of the slots it owns (in the reference view
 * or its own) and of the slots open on it (a migration in progress); any
 * other key is stray. */

/* How far the key probe looks. */
enum check_keys {
	CHECK_KEYS_STRAY = 0,    /* default: each master's DBSIZE against its own, open and suspicious
	                            slots (one transaction), the difference located slot by slot */
	CHECK_KEYS_DEEP,         /* every slot on every master, and a few stray keys named */
	CHECK_KEYS_SUSPICIOUS,   /* the slots the rules found suspicious only, and the keys of a
	                            master that owns no slot (apply's preflight) */
};

#define CHECK_NAMED_KEYS 5      /* stray keys named per master with CHECK_KEYS_DEEP */
#define CHECK_KEY_NAME_MAX 64   /* bytes of a key name kept */

/* Slots a page of counts holds: a master is counted on its own and open
 * slots by default, a few pages of 2 KB, not 16384 counts (128 KB a master:
 * 64 MB at 500 masters); --deep fills every page. */
#define CHECK_COUNT_PAGE 256

/* What the probe learnt on one master. */
struct check_keys_count {
	size_t node;             /* index in the snapshot */
	bool answered;           /* false: error says why */
	struct sc_error error;
	long long dbsize;        /* DBSIZE: like the counts, it includes keys whose TTL has
	                            passed but that are not reclaimed yet */
	long long *count_pages[SC_SLOTS / CHECK_COUNT_PAGE]; /* CLUSTER COUNTKEYSINSLOT by slot,
	                            CHECK_COUNT_PAGE slots a page, -1 not counted; a page is NULL
	                            until one of its slots is counted (check_keys_count_of/_set) */
	char names[CHECK_NAMED_KEYS][CHECK_KEY_NAME_MAX]; /* CHECK_KEYS_DEEP: keys of stray slots */
	size_t name_lens[CHECK_NAMED_KEYS];
	size_t named;
	struct slotmig_list migrations; /* the atomic slot migrations it lists (Valkey 9), owned */
	bool migrations_listed;  /* it answered CLUSTER GETSLOTMIGRATIONS (a server without it does not) */
};

/* p's count of keys in slot, or -1 when not counted. */
long long check_keys_count_of(const struct check_keys_count *p, int slot);

/* Records keys as p's count of slot. 0, or -1 on OOM (p unchanged). */
int check_keys_count_set(struct check_keys_count *p, int slot, long long keys);

/* Frees p's counts and its migration list; p then has none counted. */
void check_keys_count_release(struct check_keys_count *p);

/* The slots to count on the master at snapshot index node in one transaction
 * with its DBSIZE: every slot (deep), the slots report r calls suspicious
 * (open, uncovered, claimed twice, disagreed about), and by default also the
 * slots the node owns in the reference view or its own and those open on it.
 * Fills out. */
void check_keys_slots(const struct snapshot *s, const struct check_report *r, size_t node,
	enum check_keys mode, struct slotset *out);

/* Keys that p's DBSIZE has and its counted slots do not: the count of the
 * slots not counted yet, which the probe then counts one by one. 0 when every
 * slot is counted, when the counted slots hold them all, or (suspicious mode)
 * when the node owns slots, so that DBSIZE is not comparable. */
long long check_keys_unlocated(const struct snapshot *s, const struct check_keys_count *p,
	enum check_keys mode);

/* The counted slots in which p holds keys although its node neither owns the
 * slot in the reference view nor has it open nor stages it for an atomic
 * migration it imports (p->migrations). Fills out. */
void check_keys_stray(const struct snapshot *s, const struct check_keys_count *p, struct slotset *out);

/* Judges the counts of the n probed masters into r: a stray-keys error per
 * master holding stray keys (how many, in which slots, with deep a few key
 * names), a node-unreachable error for a master that stopped answering, a
 * stray-keys warning when counting failed otherwise, one stray-keys ok
 * finding saying how far it looked when nothing is stray; and
 * r->summary.keys, the sum of DBSIZE, when every master serving slots
 * answered. Returns 0, or -1 with an error on OOM. */
int check_keys_judge(const struct snapshot *s, const struct check_keys_count *p, size_t n,
	enum check_keys mode, struct check_report *r, struct sc_error *err);

/* ---- atomic slot migrations (Valkey 9) ---------------------------------
 * src/io/cluster/check_probe.c lists each master's jobs (GETSLOTMIGRATIONS)
 * with its counts; src/core/check/check_rules_atomic.c judges them. A job is
 * listed by its source and its target; it counts as running while either
 * side says so (a target cleans its staged keys up after a failure). */

/* Judges the jobs the n probed masters list into r: an atomic-migration
 * warning (transient: --wait waits it out) per running job, naming its
 * slots, source, target and state; an atomic-migration-failed warning per
 * failed or cancelled job that is the newest listed for its slots (an error
 * when the server says writes may have been lost), with the server's words;
 * one atomic-migration ok finding when some master lists jobs at all and
 * none runs. Nothing when no master has atomic migration. 0, or -1 on OOM. */
int check_atomic_judge(const struct snapshot *s, const struct check_keys_count *p, size_t n,
	struct check_report *r, struct sc_error *err);

/* Writes "'addr' (id8)" for a node of s by id, using the snapshot's address
 * when it has one, else the reference view's. */
void check_node_name(const struct snapshot *s, const char *id, char *buf, size_t size);

/* Fills ref with id and the best known address of that node in s. */
void check_node_ref_fill(const struct snapshot *s, const char *id, struct check_node_ref *ref);

#endif
