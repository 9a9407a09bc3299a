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

struct cJSON;

/* A new document: an object holding only "format_version": version (a
 * "MAJOR.MINOR" string). NULL when out of memory. */
struct cJSON *json_doc_new(const char *version);

/* Reads a "MAJOR.MINOR" version (two non-negative decimal numbers, nothing
 * else). Returns 0 and sets *major and *minor, or -1 (outputs untouched). */
int json_doc_version(const char *text, int *major, int *minor);

#endif
