/* fuzz_nodes.c: libFuzzer target for the CLUSTER NODES parser and what acts
 * on a parsed view: the defects (topology_defects), lookups, the owner map,
 * and every rule of `slotctl check` over a snapshot made of that one view
 * (then the JSON document). Any input must be refused with an error or
 * parsed; nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/check.h"
#include "slotctl/core/planner.h"
#include "slotctl/core/topology.h"

static void evaluate_view(const struct topology *t)
{
	struct node_view view = { .port = 7000, .reachable = true, .node_timeout_ms = 15000,
		.require_full_coverage = 1, .migration_barrier = 1, .cluster_state = "ok" };
	struct snapshot s = { &view, 1, 0 };
	struct check_report r;
	struct sc_error err;
	char *json;

	strcpy(view.host, "127.0.0.1");
	strcpy(view.addr, "127.0.0.1:7000");
	view.view = *t;
	if (t->myself >= 0)
		memcpy(view.id, t->nodes[t->myself].id, sizeof(view.id));
	if (check_evaluate(&s, &r, &err) < 0)
		return;
	json = check_report_json(&r, "127.0.0.1:7000", check_exit_code(&r, false), check_report_settled(&r), &err);
	free(json);
	check_report_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int owner[SC_SLOTS];
	struct topology_defect d[4];
	struct topology t;
	struct sc_error err;
	char buf[1024];
	size_t n;

	if (topology_parse((const char *)data, size, &t, &err) < 0)
		return 0;
	n = topology_defects(&t, d, 4);
	for (size_t i = 0; i < n && i < 4; i++)
		topology_defect_format(&t, &d[i], buf, sizeof(buf));
	topology_require_sound(&t, &err);
	topology_owner_map(&t, owner);
	for (size_t i = 0; i < t.count; i++) {
		node_flags_format(t.nodes[i].flags, buf, sizeof(buf));
		topology_find_prefix(&t, t.nodes[i].id, &err);
		topology_find_addr(&t, t.nodes[i].ip, t.nodes[i].port);
	}
	evaluate_view(&t);
	topology_release(&t);
	return 0;
}
