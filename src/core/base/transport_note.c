/* transport_note.c: the TLS record of plans and journals (see
 * slotctl/core/transport.h): encoded, decoded, and checked against what a
 * later run was given. */
#include "slotctl/core/transport.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include "slotctl/core/exitcode.h"
#include "slotctl/core/strbuf.h"

static const char *const option_names[TRANSPORT_OPTION_COUNT] = {
	"cacert", "cacertdir", "cert", "key", "sni", "insecure",
};

int transport_note_encode(cJSON *o, const struct transport_note *t)
{
	cJSON *q = cJSON_AddObjectToObject(o, "transport");
	cJSON *list = q ? cJSON_AddArrayToObject(q, "options") : NULL;

	if (!list || !cJSON_AddBoolToObject(q, "tls", t->tls))
		return -1;
	for (int i = 0; i < TRANSPORT_OPTION_COUNT; i++)
		if (t->given[i] && !cJSON_AddItemToArray(list, cJSON_CreateString(option_names[i])))
			return -1;
	return 0;
}

int transport_note_decode(const cJSON *o, struct transport_note *out, struct sc_error *err)
{
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "transport");
	const cJSON *tls, *list, *name;
	struct transport_note t = { .recorded = true };

	*out = (struct transport_note){ 0 };
	if (!q)
		return 0;
	tls = cJSON_GetObjectItemCaseSensitive(q, "tls");
	list = cJSON_GetObjectItemCaseSensitive(q, "options");
	if (!cJSON_IsObject(q) || !cJSON_IsBool(tls) || (list && !cJSON_IsArray(list)))
		return sc_error_set(err, SC_EXIT_USAGE, "field 'transport' is not an object with 'tls' true or false");
	t.tls = cJSON_IsTrue(tls);
	cJSON_ArrayForEach(name, list) {
		if (!cJSON_IsString(name))
			return sc_error_set(err, SC_EXIT_USAGE, "field 'transport.options' holds something else than names");
		for (int i = 0; i < TRANSPORT_OPTION_COUNT; i++)
			if (strcmp(name->valuestring, option_names[i]) == 0)
				t.given[i] = true;
	}
	*out = t;
	return 0;
}

int transport_note_check(const struct transport_note *then, const struct transport_note *now,
	const char *what, struct sc_error *err)
{
	char missing[160];
	struct strbuf sb;

	if (!then->recorded || !then->tls)
		return 0;
	strbuf_init(&sb, missing, sizeof(missing));
	if (!now->tls)
		strbuf_addf(&sb, " --tls");
	for (int i = 0; i < TRANSPORT_OPTION_COUNT; i++)
		if (then->given[i] && !now->given[i])
			strbuf_addf(&sb, " --%s", option_names[i]);
	if (sb.len == 0)
		return 0;
	return sc_error_set(err, SC_EXIT_USAGE, "%s says the cluster speaks TLS: give%s",
		what, missing);
}
