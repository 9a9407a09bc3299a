/* topology_slots.c: the slot sets of node lines, held once (see "slot sets
 * held once" in slotctl/core/topology.h). A set lives in a reference-counted
 * box, read-only while shared; node_slots_mut copies it before a change. The
 * empty set is one static set that is never counted or freed. Counts are
 * atomic: topologies sharing sets may be parsed and released on several
 * threads. Pure: no I/O. */
#include "slotctl/core/topology.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slots_box {
	atomic_size_t refs;
	struct slotset set;
};

struct slots_index_entry {
	uint64_t hash;
	const struct slotset *set;
};

static const struct slotset empty_set;

static struct slots_box *box_of(const struct slotset *set)
{
	return (struct slots_box *)(void *)((uintptr_t)set - offsetof(struct slots_box, set));
}

static bool slotset_empty(const struct slotset *s)
{
	for (size_t w = 0; w < SC_SLOTS / 64; w++)
		if (s->bits[w])
			return false;
	return true;
}

static uint64_t slotset_hash(const struct slotset *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t w = 0; w < SC_SLOTS / 64; w++)
		h = (h ^ s->bits[w]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct slots_index_entry *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

int slots_index_build(struct slots_index *idx, const struct topology *t)
{
	struct slots_index_entry *e = malloc((t->count ? t->count : 1) * sizeof(*e));
	size_t n = 0;

	if (!e)
		return -1;
	for (size_t i = 0; i < t->count; i++) {
		const struct slotset *set = t->nodes[i].shared_slots;

		if (set && set != &empty_set)
			e[n++] = (struct slots_index_entry){ slotset_hash(set), set };
	}
	qsort(e, n, sizeof(*e), entry_cmp);
	idx->entries = e;
	idx->count = n;
	return 0;
}

void slots_index_release(struct slots_index *idx)
{
	free(idx->entries);
	idx->entries = NULL;
	idx->count = 0;
}

/* The set of idx equal to set, or NULL. */
static const struct slotset *index_find(const struct slots_index *idx, const struct slotset *set)
{
	uint64_t h;
	size_t lo = 0, hi;

	if (!idx || !idx->count)
		return NULL;
	h = slotset_hash(set);
	hi = idx->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (idx->entries[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < idx->count && idx->entries[lo].hash == h; lo++)
		if (slotset_equal(idx->entries[lo].set, set))
			return idx->entries[lo].set;
	return NULL;
}

/* A new reference to set (which is held by some line). */
static const struct slotset *set_ref(const struct slotset *set)
{
	if (set && set != &empty_set)
		atomic_fetch_add(&box_of(set)->refs, 1);
	return set;
}

static void set_unref(const struct slotset *set)
{
	if (set && set != &empty_set && atomic_fetch_sub(&box_of(set)->refs, 1) == 1)
		free(box_of(set));
}

/* A new box holding a copy of set, or NULL on OOM. */
static const struct slotset *set_new(const struct slotset *set)
{
	struct slots_box *b = malloc(sizeof(*b));

	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	b->set = *set;
	return &b->set;
}

const struct slotset *node_slots(const struct node *n)
{
	return n->shared_slots ? n->shared_slots : &empty_set;
}

struct slotset *node_slots_mut(struct node *n)
{
	const struct slotset *set = n->shared_slots;

	if (!set || set == &empty_set || atomic_load(&box_of(set)->refs) > 1) {
		const struct slotset *own = set_new(node_slots(n));

		if (!own)
			return NULL;
		set_unref(set);
		n->shared_slots = set = own;
	}
	return &box_of(set)->set;
}

int node_slots_set(struct node *n, const struct slotset *set, const struct slots_index *share)
{
	const struct slotset *held;

	if (slotset_empty(set))
		held = &empty_set;
	else if ((held = index_find(share, set)))
		set_ref(held);
	else if (!(held = set_new(set)))
		return -1;
	set_unref(n->shared_slots);
	n->shared_slots = held;
	return 0;
}

void node_slots_release(struct node *n)
{
	set_unref(n->shared_slots);
	n->shared_slots = NULL;
}

void node_slots_share(struct node *dst, const struct node *src)
{
	dst->shared_slots = set_ref(src->shared_slots);
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;

	return x < y ? -1 : x > y;
}

size_t topology_retained_bytes(const struct topology *t, const struct slots_index *shared)
{
	const struct slotset **own = malloc((t->count ? t->count : 1) * sizeof(*own));
	size_t bytes = t->count * sizeof(*t->nodes), n = 0;

	if (!own)
		return (size_t)-1;
	for (size_t i = 0; i < t->count; i++) {
		const struct node *x = &t->nodes[i];

		if (x->text)
			bytes += strlen(x->text) + 1 + (x->aux ? strlen(x->aux) + 1 : 0);
		bytes += x->open_count * sizeof(*x->open);
		if (x->shared_slots && x->shared_slots != &empty_set && index_find(shared, x->shared_slots) != x->shared_slots)
			own[n++] = x->shared_slots;
	}
	qsort(own, n, sizeof(*own), ptr_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || own[i] != own[i - 1])
			bytes += sizeof(struct slotset);
	free(own);
	return bytes;
}
