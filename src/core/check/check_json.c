/* check_json.c: the `slotctl check --json` document: a versioned rendering
 * of a check report (see CHECK_FORMAT_VERSION and man/slotctl.1). Pure. */
#include "slotctl/core/check.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/json_doc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static cJSON *finding_json(const struct check_finding *f)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *nodes = cJSON_CreateArray();
	size_t need = slotset_format(&f->slots, NULL, 0) + 1;
	char *slots = malloc(need);

	if (!o || !nodes || !slots) {
		free(slots);
		cJSON_Delete(nodes);
		cJSON_Delete(o);
		return NULL;
	}
	slotset_format(&f->slots, slots, need);
	cJSON_AddStringToObject(o, "code", f->code);
	cJSON_AddStringToObject(o, "severity", check_severity_name(f->severity));
	cJSON_AddItemToObject(o, "nodes", nodes);
	for (size_t i = 0; i < f->node_count; i++) {
		cJSON *n = cJSON_CreateObject();

		if (f->nodes[i].id[0])
			cJSON_AddStringToObject(n, "id", f->nodes[i].id);
		else
			cJSON_AddNullToObject(n, "id");
		cJSON_AddStringToObject(n, "address", f->nodes[i].addr);
		cJSON_AddItemToArray(nodes, n);
	}
	cJSON_AddStringToObject(o, "slots", slots);
	json_add_number(o, "slot_count", slotset_count(&f->slots));
	cJSON_AddStringToObject(o, "message", f->message);
	free(slots);
	return o;
}

static void summary_json(cJSON *doc, const struct check_report *r)
{
	const struct check_summary *s = &r->summary;
	cJSON *c = cJSON_AddObjectToObject(doc, "cluster");
	cJSON *counts = cJSON_AddObjectToObject(doc, "counts");

	json_add_number(c, "nodes", s->nodes);
	json_add_number(c, "reachable", s->reachable);
	json_add_number(c, "masters", s->masters);
	json_add_number(c, "replicas", s->replicas);
	json_add_number(c, "slots_covered", s->slots_covered);
	if (s->keys >= 0)
		json_add_number(c, "keys", (double)s->keys);
	else
		cJSON_AddNullToObject(c, "keys");
	cJSON_AddStringToObject(c, "reference", s->reference);
	json_add_number(counts, "ok", (double)check_report_count(r, CHECK_OK));
	json_add_number(counts, "warn", (double)check_report_count(r, CHECK_WARN));
	json_add_number(counts, "err", (double)check_report_count(r, CHECK_ERR));
}

char *check_report_json(const struct check_report *r, const char *seed, int exit_code, bool settled,
	struct sc_error *err)
{
	cJSON *doc = json_doc_new(CHECK_FORMAT_VERSION);
	cJSON *findings;
	char *text = NULL;

	if (!doc)
		goto oom;
	cJSON_AddStringToObject(doc, "seed", seed);
	json_add_number(doc, "exit_code", exit_code);
	cJSON_AddBoolToObject(doc, "settled", settled);
	summary_json(doc, r);
	findings = cJSON_AddArrayToObject(doc, "findings");
	for (size_t i = 0; findings && i < r->count; i++) {
		cJSON *f = finding_json(&r->findings[i]);

		if (!f)
			goto oom;
		cJSON_AddItemToArray(findings, f);
	}
	text = findings ? cJSON_Print(doc) : NULL;
	if (!text)
		goto oom;
	cJSON_Delete(doc);
	return text;
oom:
	cJSON_Delete(doc);
	sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory while writing the check report");
	return NULL;
}
