/* check_rules_priv.h: what the files of the check rules (check_rules.c,
 * check_rules_nodes.c, check_rules_views.c) share: the state of one evaluation and the helpers
 * that add findings. Not a public interface. */
#ifndef SLOTCTL_CHECK_RULES_PRIV_H
#define SLOTCTL_CHECK_RULES_PRIV_H

#include "slotctl/core/check.h"

#define NAME_MAX_LEN 340
#define LIST_NAMES 4      /* nodes named in a message before "and N more" */

/* One evaluation: the snapshot, its reference view and the report filled. */
struct rules {
	const struct snapshot *s;
	const struct topology *ref;   /* the reference view, NULL when none */
	struct check_report *r;
	bool *listed_twice;           /* per reference entry: its id is listed twice (rule_views) */
	const struct node **ref_by_id; /* the reference's entries sorted by id, then input order */
	bool oom;                     /* an allocation failed: evaluation fails */
};

/* The reference view's entry for id (the first listed when twice), as
 * topology_find(c->ref, id) but by binary search: the rules look up every
 * entry of every view there, which walking the reference made cubic in the
 * nodes. NULL when none. */
const struct node *rules_ref_find(const struct rules *c, const char *id);

/* The entry a reachable node's own view has for itself, or NULL. */
const struct node *rules_view_self(const struct node_view *v);

/* Appends a finding with an empty message (NULL after OOM: the helpers below
 * then do nothing). */
struct check_finding *rules_add(struct rules *c, enum check_severity sev, const char *code);

/* Names node id in f, with its address from the snapshot or else entry's. */
void rules_add_node(struct rules *c, struct check_finding *f, const char *id, const struct node *entry);

/* Names the node of view v in f. */
void rules_add_view(struct rules *c, struct check_finding *f, const struct node_view *v);

/* "'addr' (id8)" for a node reference. */
void rules_ref_name(const struct check_node_ref *ref, char *buf, size_t size);

/* "'a' (id), 'b' (id) and 2 more" for f's nodes from index from. */
void rules_list_names(const struct check_finding *f, size_t from, char *buf, size_t size);

/* Sets f's message (printf-style); nothing when f is NULL. */
void rules_say(struct check_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Not failed, with an address and out of handshake. */
bool rules_node_usable(const struct node *n);

/* The rule of check_rules_views.c: views no real cluster gives; runs first
 * and fills c->listed_twice. */
void rule_views(struct rules *c);

/* The rules of check_rules_nodes.c; each adds its findings to c->r. */
void rule_epochs(struct rules *c);
void rule_flags(struct rules *c);
void rule_cluster_state(struct rules *c);
void rule_replicas(struct rules *c);
void rule_replica_acks(struct rules *c);
void rule_settings(struct rules *c);

#endif
