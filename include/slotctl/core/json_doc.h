/* json_doc.h: slotctl's versioned JSON documents (plan files, journal
 * records, the sandbox state, and every --json output): each one is an
 * object whose first member is "format_version", a string "MAJOR.MINOR".
 * The rule for them (ARCHITECTURE.md, "Versioned documents"): one builder
 * per document next to its version constant; a node's address is "address"
 * ("host:port"); renaming or removing a field, or changing its type, bumps
 * the major version, adding one the minor; readers refuse an unknown major
 * and ignore unknown fields. Pure. */
#ifndef SLOTCTL_JSON_DOC_H
#define SLOTCTL_JSON_DOC_H

#include <stdbool.h>

struct cJSON;

/* A new document: an object holding only "format_version": version (a
 * "MAJOR.MINOR" string). NULL when out of memory. */
struct cJSON *json_doc_new(const char *version);

/* Reads a "MAJOR.MINOR" version (two non-negative decimal numbers, nothing
 * else). Returns 0 and sets *major and *minor, or -1 (outputs untouched). */
int json_doc_version(const char *text, int *major, int *minor);

/* Adds the number member name: value to the object o, as
 * cJSON_AddNumberToObject does, with a whole number within +-1e15 written
 * as its decimal digits (a raw member: the same text). The one way slotctl
 * writes a JSON number: cJSON 1.7.15 prints every number with "%1.15g" and
 * reads it back with sscanf to check it, which was 40% of encoding a big
 * move's journal and half of printing its plan. Returns the member, or NULL
 * when out of memory. */
struct cJSON *json_add_number(struct cJSON *o, const char *name, double value);

/* Whether s goes into a JSON string as it is, escaping nothing (printable
 * ASCII, no quote or backslash): node ids and job names do. Writers that
 * build a record's text by hand (a journal's slot records, a plan's moves)
 * take the general path for anything else. */
bool json_is_plain(const char *s);

#endif
