/* plan_priv.h: what the plan file's reader (plan_json.c) and writer
 * (plan_write.c) share. Not a public interface. */
#ifndef SLOTCTL_PLAN_PRIV_H
#define SLOTCTL_PLAN_PRIV_H

#include <stdbool.h>

/* True when name is a top-level field of the plan model; any other field
 * is kept verbatim in plan->extra. */
bool plan_field_is_known(const char *name);

#endif
