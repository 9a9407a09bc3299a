/* topology_parse.c: the text of a `CLUSTER NODES` reply -> struct topology.
 *
 * One line per node, fields separated by spaces:
 *   <id> <ip:port@cport[,hostname[,aux=val...]]> <flags> <master|-> <ping-sent>
 *   <pong-recv> <config-epoch> <connected|disconnected> [slot | a-b | [s->-id] | [s-<-id]]...
 * The parser works on (pointer, length) spans so the reply need not be
 * NUL-terminated, and names the line and field of anything it rejects. */
#include "slotctl/core/topology.h"
#include "slotctl/core/exitcode.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* A piece of the input: not NUL-terminated. */
struct span {
	const char *p;
	size_t len;
};

enum { FIELD_COUNT = 8 };

static const char *const field_names[FIELD_COUNT] = {
	"id", "address", "flags", "master", "ping-sent", "pong-recv", "config-epoch", "link-state",
};

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{ "myself", NODE_MYSELF },
	{ "master", NODE_MASTER },
	{ "slave", NODE_REPLICA },
	{ "replica", NODE_REPLICA },
	{ "fail?", NODE_PFAIL },
	{ "fail", NODE_FAIL },
	{ "handshake", NODE_HANDSHAKE },
	{ "noaddr", NODE_NOADDR },
	{ "nofailover", NODE_NOFAILOVER },
	{ "noflags", NODE_NOFLAGS },
};

/* The error for a bad token: "line 3: field 'config-epoch': 'x' is not a number". */
static int field_error(struct sc_error *err, int lineno, const char *field, struct span tok, const char *why)
{
	int shown = tok.len > 64 ? 64 : (int)tok.len;

	return sc_error_set(err, SC_EXIT_USAGE, "line %d: field '%s': '%.*s%s' %s",
		lineno, field, shown, tok.p, tok.len > 64 ? "..." : "", why);
}

static bool span_eq(struct span s, const char *word)
{
	return s.len == strlen(word) && memcmp(s.p, word, s.len) == 0;
}

/* Splits s at the first c: head before it, s after it. False when c is absent
 * (then head is all of s and s is empty). */
static bool span_cut(struct span *s, char c, struct span *head)
{
	const char *at = memchr(s->p, c, s->len);

	head->p = s->p;
	head->len = at ? (size_t)(at - s->p) : s->len;
	s->p += at ? head->len + 1 : s->len;
	s->len -= at ? head->len + 1 : s->len;
	return at != NULL;
}

/* Parses a decimal number of at most max; false on empty, non-digits or overflow. */
static bool parse_uint(struct span s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned)(s.p[i] - '0');

		if (d > 9 || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool is_node_id(struct span s)
{
	if (s.len != SC_NODE_ID_LEN)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!isxdigit((unsigned char)s.p[i]))
			return false;
	return true;
}

static void copy_span(char *dst, struct span s)
{
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
}

/* "ip:port@cport[,hostname[,aux...]]": the port is after the last ':' before
 * '@' (IPv6 addresses hold colons); cport is absent in the pre-4.0 format, and
 * then Redis's default of port + 10000. A second element holding '=' is
 * already an aux field (hostnames never hold '='). */
static int parse_address(struct span tok, struct node *n, int lineno, struct sc_error *err)
{
	struct span rest = tok, addr, ip, port, host = { "", 0 }, after_host, first;
	unsigned long long port_v, cport_v;
	const char *colon = NULL;

	span_cut(&rest, ',', &addr);
	after_host = rest;
	span_cut(&after_host, ',', &first);
	if (!memchr(first.p, '=', first.len)) {
		host = first;
		rest = after_host;
	}
	for (size_t i = 0; i < addr.len && addr.p[i] != '@'; i++)
		if (addr.p[i] == ':')
			colon = addr.p + i;
	if (!colon)
		return field_error(err, lineno, "address", tok, "has no ':port'");
	ip = (struct span){ addr.p, (size_t)(colon - addr.p) };
	addr = (struct span){ colon + 1, addr.len - ip.len - 1 };
	if (ip.len >= sizeof(n->ip))
		return field_error(err, lineno, "address", tok, "has an overlong ip");
	if (host.len > SC_HOSTNAME_MAX)
		return field_error(err, lineno, "address", tok, "has an overlong hostname");
	if (!span_cut(&addr, '@', &port)) {
		if (!parse_uint(port, 65535, &port_v))
			return field_error(err, lineno, "address", tok, "has a bad port");
		cport_v = port_v ? port_v + 10000 : 0;
	} else if (!parse_uint(port, 65535, &port_v)) {
		return field_error(err, lineno, "address", tok, "has a bad port");
	} else if (!parse_uint(addr, 65535, &cport_v)) {
		return field_error(err, lineno, "address", tok, "has a bad cluster bus port");
	}
	if (host.len || rest.len) { /* one block: "hostname\0aux\0" */
		if (!(n->text = malloc(host.len + 1 + rest.len + 1)))
			return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory parsing line %d", lineno);
		copy_span(n->text, host);
		if (rest.len)
			copy_span(n->text + host.len + 1, rest);
		n->hostname = n->text;
		n->aux = rest.len ? n->text + host.len + 1 : NULL;
	} else {
		n->hostname = "";
	}
	copy_span(n->ip, ip);
	n->port = (int)port_v;
	n->cport = (int)cport_v;
	return 0;
}

static void parse_flags(struct span tok, struct node *n)
{
	struct span name;

	while (tok.len) {
		span_cut(&tok, ',', &name);
		for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
			if (span_eq(name, flag_names[i].name))
				n->flags |= flag_names[i].flag;
	}
}

static int add_open_slot(struct node *n, int slot, bool importing, struct span peer)
{
	struct open_slot *grown = realloc(n->open, (n->open_count + 1) * sizeof(*grown));

	if (!grown)
		return -1;
	n->open = grown;
	grown[n->open_count].slot = slot;
	grown[n->open_count].importing = importing;
	copy_span(grown[n->open_count].peer, peer);
	n->open_count++;
	return 0;
}

/* "[s->-id]" (migrating) or "[s-<-id]" (importing). */
static int parse_marker(struct span tok, struct node *n, int lineno, struct sc_error *err)
{
	struct span inner = { tok.p + 1, tok.len >= 2 ? tok.len - 2 : 0 }, slot, peer;
	unsigned long long v;
	bool importing;

	if (tok.len < 2 || tok.p[tok.len - 1] != ']' || !span_cut(&inner, '-', &slot) || inner.len < 2)
		return field_error(err, lineno, "open-slot", tok, "is not [slot->-id] or [slot-<-id]");
	importing = inner.p[0] == '<';
	peer = (struct span){ inner.p + 2, inner.len - 2 };
	if ((inner.p[0] != '<' && inner.p[0] != '>') || inner.p[1] != '-' || !is_node_id(peer))
		return field_error(err, lineno, "open-slot", tok, "is not [slot->-id] or [slot-<-id]");
	if (!parse_uint(slot, SC_SLOTS - 1, &v))
		return field_error(err, lineno, "open-slot", tok, "has a slot outside 0-16383");
	if (add_open_slot(n, (int)v, importing, peer) < 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory parsing line %d", lineno);
	return 0;
}

/* "a-b" or "a". */
static int parse_slots(struct span tok, struct slotset *slots, int lineno, struct sc_error *err)
{
	struct span rest = tok, first;
	unsigned long long a, b;
	bool range = span_cut(&rest, '-', &first);

	if (!parse_uint(first, SC_SLOTS - 1, &a) || (range && !parse_uint(rest, SC_SLOTS - 1, &b)))
		return field_error(err, lineno, "slots", tok, "is not a slot or range within 0-16383");
	if (!range)
		b = a;
	if (b < a)
		return field_error(err, lineno, "slots", tok, "is a reversed range");
	slotset_add_range(slots, (int)a, (int)b);
	return 0;
}

static int parse_number_field(struct span tok, int field, int lineno, unsigned long long max,
	unsigned long long *out, struct sc_error *err)
{
	if (!parse_uint(tok, max, out))
		return field_error(err, lineno, field_names[field], tok, "is not a number");
	return 0;
}

/* The fixed fields 0-7 of one line. */
static int parse_fixed(const struct span *f, struct node *n, int lineno, struct sc_error *err)
{
	unsigned long long ping = 0, pong = 0;

	if (!is_node_id(f[0]))
		return field_error(err, lineno, "id", f[0], "is not a 40-character hex node id");
	copy_span(n->id, f[0]);
	if (parse_address(f[1], n, lineno, err) < 0)
		return -1;
	parse_flags(f[2], n);
	if (!span_eq(f[3], "-") && !is_node_id(f[3]))
		return field_error(err, lineno, "master", f[3], "is not '-' or a 40-character hex node id");
	if (!span_eq(f[3], "-"))
		copy_span(n->master_id, f[3]);
	if (parse_number_field(f[4], 4, lineno, LLONG_MAX, &ping, err) < 0 ||
		parse_number_field(f[5], 5, lineno, LLONG_MAX, &pong, err) < 0 ||
		parse_number_field(f[6], 6, lineno, ULLONG_MAX, &n->config_epoch, err) < 0)
		return -1;
	n->ping_sent = (long long)ping;
	n->pong_recv = (long long)pong;
	if (!span_eq(f[7], "connected") && !span_eq(f[7], "disconnected"))
		return field_error(err, lineno, "link-state", f[7], "is not 'connected' or 'disconnected'");
	n->link_connected = span_eq(f[7], "connected");
	return 0;
}

static bool is_blank(struct span s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] != ' ' && s.p[i] != '\t')
			return false;
	return true;
}

/* Takes the next space-separated token of line into tok; false at its end. */
static bool next_token(struct span *line, struct span *tok)
{
	while (line->len && (*line->p == ' ' || *line->p == '\t')) {
		line->p++;
		line->len--;
	}
	if (!line->len)
		return false;
	tok->p = line->p;
	while (line->len && *line->p != ' ' && *line->p != '\t') {
		line->p++;
		line->len--;
	}
	tok->len = (size_t)(line->p - tok->p);
	return true;
}

/* One line into n; its slots are shared with an equal set of share (may be
 * NULL). */
static int parse_line(struct span line, struct node *n, const struct slots_index *share, int lineno,
	struct sc_error *err)
{
	struct span f[FIELD_COUNT], tok;
	struct slotset slots = { { 0 } };

	for (int i = 0; i < FIELD_COUNT; i++)
		if (!next_token(&line, &f[i]))
			return sc_error_set(err, SC_EXIT_USAGE, "line %d: field '%s': missing (the line is truncated)",
				lineno, field_names[i]);
	if (parse_fixed(f, n, lineno, err) < 0)
		return -1;
	while (next_token(&line, &tok)) {
		int rc = tok.p[0] == '[' ? parse_marker(tok, n, lineno, err) : parse_slots(tok, &slots, lineno, err);

		if (rc < 0)
			return -1;
	}
	if (node_slots_set(n, &slots, share) < 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory parsing line %d", lineno);
	return 0;
}

static struct node *append_node(struct topology *t, size_t *cap)
{
	if (t->count == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 8;
		struct node *grown = realloc(t->nodes, grown_cap * sizeof(*grown));

		if (!grown)
			return NULL;
		t->nodes = grown;
		*cap = grown_cap;
	}
	memset(&t->nodes[t->count], 0, sizeof(t->nodes[0]));
	return &t->nodes[t->count++];
}

int topology_parse(const char *text, size_t len, struct topology *out, struct sc_error *err)
{
	return topology_parse_shared(text, len, NULL, out, err);
}

int topology_parse_shared(const char *text, size_t len, const struct slots_index *share,
	struct topology *out, struct sc_error *err)
{
	struct topology t = { .nodes = NULL, .count = 0, .myself = -1 };
	struct span rest = { text, len }, line;
	size_t cap = 0;
	int lineno = 0;

	while (rest.len) {
		struct node *n;

		span_cut(&rest, '\n', &line);
		lineno++;
		if (line.len && line.p[line.len - 1] == '\r')
			line.len--;
		if (is_blank(line))
			continue; /* blank, e.g. the reply's trailing newline */
		if (!(n = append_node(&t, &cap))) {
			topology_release(&t);
			return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory parsing line %d", lineno);
		}
		if (parse_line(line, n, share, lineno, err) < 0) {
			topology_release(&t);
			return -1;
		}
		if ((n->flags & NODE_MYSELF) && t.myself < 0)
			t.myself = (int)t.count - 1;
	}
	if (t.count < cap) { /* `check` keeps a view per node: no slack */
		struct node *fit = realloc(t.nodes, t.count * sizeof(*fit));

		if (fit)
			t.nodes = fit;
	}
	*out = t;
	return 0;
}
