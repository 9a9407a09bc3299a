/* plan_names.c: a plan's kind and measure as words (the plan file's "kind"
 * and "by", --by) and the one dispatch from a measure to the count it
 * measures (see slotctl/core/plan.h). */
#include "slotctl/core/plan.h"
#include "slotctl/core/exitcode.h"

#include <string.h>

static const char *const kind_names[] = { "reshard", "rebalance", "drain" };
static const char *const measure_names[] = { "memory", "keys", "slots", "cpu" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *plan_kind_name(enum plan_kind k)
{
	return (unsigned)k < COUNT(kind_names) ? kind_names[k] : "?";
}

int plan_kind_parse(const char *text, enum plan_kind *out)
{
	for (size_t k = 0; k < COUNT(kind_names); k++)
		if (strcmp(text, kind_names[k]) == 0) {
			*out = (enum plan_kind)k;
			return 0;
		}
	return -1;
}

const char *plan_measure_name(enum plan_measure m)
{
	return m >= 0 && (unsigned)m < COUNT(measure_names) ? measure_names[m] : "";
}

int plan_measure_parse(const char *text, enum plan_measure *out, struct sc_error *err)
{
	for (size_t m = 0; m < COUNT(measure_names); m++)
		if (strcmp(text, measure_names[m]) == 0) {
			*out = (enum plan_measure)m;
			return 0;
		}
	return sc_error_set(err, SC_EXIT_USAGE, "--by: '%s' is not slots, keys, memory or cpu", text);
}

long long plan_measure_pick(enum plan_measure m, long long slots, long long keys, long long bytes,
	long long cpu_usec)
{
	switch (m) {
	case MEASURE_CPU:
		return cpu_usec;
	case MEASURE_SLOTS:
		return slots;
	case MEASURE_KEYS:
		return keys;
	case MEASURE_MEMORY:
	case MEASURE_UNKNOWN:
	default:
		return bytes;
	}
}
