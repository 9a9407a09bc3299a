/* topology.h: one node's view of the cluster, as parsed from its
 * `CLUSTER NODES` reply. Pure: parsing and lookups only, no I/O. */
#ifndef SLOTCTL_TOPOLOGY_H
#define SLOTCTL_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/error.h"
#include "slotctl/core/slotset.h"

#define SC_NODE_ID_LEN 40
#define SC_HOSTNAME_MAX 255               /* bytes of a hostname (DNS's bound) */

enum node_flag {
	NODE_MYSELF     = 1u << 0,
	NODE_MASTER     = 1u << 1,
	NODE_REPLICA    = 1u << 2, /* "slave" or "replica" */
	NODE_PFAIL      = 1u << 3, /* "fail?" */
	NODE_FAIL       = 1u << 4,
	NODE_HANDSHAKE  = 1u << 5,
	NODE_NOADDR     = 1u << 6,
	NODE_NOFAILOVER = 1u << 7,
	NODE_NOFLAGS    = 1u << 8, /* "noflags" */
};

/* An open-slot marker: "[s->-peer]" (migrating to peer) or "[s-<-peer]"
 * (importing from peer). */
struct open_slot {
	int slot;
	bool importing;                   /* false: migrating */
	char peer[SC_NODE_ID_LEN + 1];
};

struct node {
	char id[SC_NODE_ID_LEN + 1];
	char ip[64];                      /* "" when the address is empty (":0@0") */
	int port;
	int cport;
	const char *hostname;             /* "" when absent (never NULL in a parsed or copied line) */
	const char *aux;                  /* raw aux fields after the hostname ("shard-id=...,..."), or NULL */
	char *text;                       /* owns hostname and aux when either is set, else NULL: a
	                                     line is kept per node per view, so no fixed buffers */
	unsigned flags;                   /* enum node_flag bits */
	char master_id[SC_NODE_ID_LEN + 1]; /* "" for "-" */
	long long ping_sent;
	long long pong_recv;
	unsigned long long config_epoch;
	bool link_connected;
	const struct slotset *shared_slots; /* slots this line claims: read with node_slots(),
	                                       write with node_slots_mut(); NULL reads as empty */
	struct open_slot *open;           /* open-slot markers, in input order */
	size_t open_count;
};

struct topology {
	struct node *nodes;               /* in input order */
	size_t count;
	int myself;                       /* index of the "myself" line, or -1 */
};

/* Parses the text of a `CLUSTER NODES` reply (len bytes; need not be
 * NUL-terminated). On success fills out (caller releases it with
 * topology_release) and returns 0. On malformed input returns -1 with an
 * SC_EXIT_USAGE error naming the line number and the field; out is untouched. */
int topology_parse(const char *text, size_t len, struct topology *out, struct sc_error *err);

/* ---- slot sets held once ------------------------------------------------
 * A node line's slots are a 2 KB bitmap, and `slotctl check` keeps every
 * line of every node's view: N views of N lines held N² bitmaps (692 MB at
 * 500 masters). So a line points at its set, which is shared, read-only,
 * between the lines that claim the same slots (reference counted; the empty
 * set is one static set): a view parsed with topology_parse_shared against
 * the reference view's sets holds only the sets it disagrees about. */

/* The distinct non-empty slot sets of one topology, by hash: what
 * topology_parse_shared shares. It does not own them: the topology it was
 * built from outlives it. Read-only once built, so that several threads may
 * parse against it at once. */
struct slots_index {
	struct slots_index_entry *entries;
	size_t count;
};

/* Fills idx with t's sets (release with slots_index_release). 0, or -1 on OOM. */
int slots_index_build(struct slots_index *idx, const struct topology *t);

/* Frees idx's table and zeroes it. Safe on a zeroed index. */
void slots_index_release(struct slots_index *idx);

/* As topology_parse; a line whose slots equal a set of share (may be NULL)
 * takes a reference to that set instead of a copy of its own. */
int topology_parse_shared(const char *text, size_t len, const struct slots_index *share,
	struct topology *out, struct sc_error *err);

/* The slots n's line claims (never NULL: the empty set when it has none). */
const struct slotset *node_slots(const struct node *n);

/* n's slots, made n's own first (a shared set is copied: the other lines
 * holding it keep theirs), to change in place. NULL on OOM (n unchanged). */
struct slotset *node_slots_mut(struct node *n);

/* Sets n's slots to a copy of set, shared with an equal set of share (may be
 * NULL) when it has one; drops n's former set. 0, or -1 on OOM (n unchanged). */
int node_slots_set(struct node *n, const struct slotset *set, const struct slots_index *share);

/* Drops n's reference to its set (freeing it with the last) and leaves n
 * with none (the empty set). topology_release does it for every line. */
void node_slots_release(struct node *n);

/* Makes dst (a byte copy of src) hold a reference of its own to src's set:
 * what topology_copy does for every line. */
void node_slots_share(struct node *dst, const struct node *src);

/* The heap bytes t holds (its lines, their hostname and aux text and open-slot markers)
 * plus sizeof(struct slotset) for each set its lines hold that is not in
 * shared (may be NULL): what a view parsed against shared costs on top of
 * it. Each distinct set counts once. (size_t)-1 on OOM. */
size_t topology_retained_bytes(const struct topology *t, const struct slots_index *shared);

/* Frees what topology_parse allocated and zeroes t. Safe on a zeroed struct. */
void topology_release(struct topology *t);

/* Deep-copies src into dst (caller releases dst). Returns 0, or -1 on OOM. */
int topology_copy(struct topology *dst, const struct topology *src);

/* The node with exactly this id, or NULL. */
const struct node *topology_find(const struct topology *t, const char *id);

/* The one node whose id starts with prefix (or equals it). Returns NULL with
 * an SC_EXIT_USAGE error when none matches, or when several do (the error
 * lists the candidates). */
const struct node *topology_find_prefix(const struct topology *t, const char *prefix, struct sc_error *err);

/* The node whose "ip:port" equals addr, or NULL. */
const struct node *topology_find_addr(const struct topology *t, const char *ip, int port);

/* Fills owner[slot] with the index of the node whose line claims each slot
 * (in CLUSTER NODES only masters list slots), -1 when none does, or -2 when
 * two or more lines claim it. */
void topology_owner_map(const struct topology *t, int owner[SC_SLOTS]);

/* What no real cluster's CLUSTER NODES holds (Redis keeps one entry per node
 * id, exactly one of them its own), found in a view that parses: a node
 * listed twice, two usable entries (not fail, noaddr or handshake) with
 * distinct ids at one address, or a myself line missing or repeated. Such a
 * reply comes from a broken server or from something in front of it. */
enum topology_defect_kind {
	TOPOLOGY_ID_TWICE,        /* nodes[a] and nodes[b] carry one id */
	TOPOLOGY_ADDR_TWICE,      /* nodes[a] and nodes[b] have one ip:port */
	TOPOLOGY_NO_MYSELF,       /* no entry is flagged myself (a, b unused) */
	TOPOLOGY_MYSELF_TWICE,    /* nodes[a] and nodes[b] are both flagged myself */
};

struct topology_defect {
	enum topology_defect_kind kind;
	size_t a, b;              /* indexes into nodes, a < b: a is the first entry */
};

/* Writes the first max defects of t into out (ids first, by id; then
 * addresses, by address; then myself) and returns how many t has in all: 0
 * for every view a real cluster gives. k entries sharing an id, an address or
 * the myself flag are k - 1 defects, each pairing the first with a later one.
 * Returns (size_t)-1 on OOM. */
size_t topology_defects(const struct topology *t, struct topology_defect *out, size_t max);

/* Describes d in t, e.g. "node 'e7d1…' is listed twice (at '127.0.0.1:30001'
 * and '127.0.0.1:30004')". */
void topology_defect_format(const struct topology *t, const struct topology_defect *d, char *buf, size_t size);

/* The code `slotctl check` gives a defect of this kind: "node-listed-twice",
 * "address-listed-twice" or "myself-not-one". */
const char *topology_defect_code(enum topology_defect_kind kind);

/* 0 when t has no defect; else -1 with an SC_EXIT_REFUSED error naming the
 * first (its check code and what it is), saying that slotctl refuses to
 * doing ("plan", "move slots") on such a view and to run 'slotctl check'. */
int topology_require_sound_to(const struct topology *t, const char *doing, struct sc_error *err);

/* topology_require_sound_to(t, "plan", err). */
int topology_require_sound(const struct topology *t, struct sc_error *err);

/* True when n is a master (flag master and not a replica). */
bool node_is_master(const struct node *n);

/* Writes the node's flags as CLUSTER NODES spells them ("myself,master"). */
void node_flags_format(unsigned flags, char *buf, size_t size);

#endif
