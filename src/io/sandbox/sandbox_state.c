/* sandbox_state.c: the sandbox's state file, <dir>/sandbox.json: what was
 * started (binary, ports, PIDs, ids, roles), so that `down` and `status` work
 * from another process. Written atomically and read bounded, never through a
 * symbolic link (file_text.h: file_write, file_read). */
#include "sandbox_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"
#include "slotctl/core/json_strict.h"
#include "slotctl/core/json_doc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SANDBOX_STATE_MAX_BYTES ((size_t)1 << 20) /* a few KB for the largest sandbox */

struct cJSON *sandbox_node_json(const struct sandbox *sb, int i)
{
	const struct sandbox_node *n = &sb->nodes[i];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	json_add_number(o, "port", n->port);
	json_add_number(o, "cport", n->cport);
	json_add_number(o, "pid", (double)n->pid);
	cJSON_AddStringToObject(o, "id", n->id);
	cJSON_AddStringToObject(o, "role", n->master < 0 ? "master" : "replica");
	json_add_number(o, "master", n->master);
	return o;
}

static char *state_text(const struct sandbox *sb)
{
	cJSON *root = json_doc_new(SANDBOX_FORMAT_VERSION);
	cJSON *nodes;
	char *text;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "dir", sb->dir);
	cJSON_AddStringToObject(root, "redis_server", sb->redis_server);
	json_add_number(root, "masters", sb->masters);
	json_add_number(root, "replicas", sb->replicas);
	json_add_number(root, "empty_masters", sb->empty_masters);
	cJSON_AddBoolToObject(root, "tls", sb->tls);
	cJSON_AddBoolToObject(root, "tls_auth_clients", sb->tls_auth_clients);
	nodes = cJSON_AddArrayToObject(root, "nodes");
	for (int i = 0; nodes && i < sb->count; i++)
		cJSON_AddItemToArray(nodes, sandbox_node_json(sb, i));
	text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

int sandbox_state_write(const struct sandbox *sb, struct sc_error *err)
{
	char path[PATH_MAX + 32];
	char *text = state_text(sb);
	int rc;

	if (!text)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory writing the sandbox state");
	snprintf(path, sizeof(path), "%s/%s", sb->dir, SANDBOX_STATE_FILE);
	rc = file_write(path, "sandbox state", text, err);
	free(text);
	return rc;
}

/* The state file's text (caller frees), or NULL with the error. The file
 * is slotctl's own: bounded, and never read through a symbolic link. */
static char *read_text(const char *path, size_t *len, struct sc_error *err)
{
	char *text;
	int rc = file_read(path, "sandbox state", SANDBOX_STATE_MAX_BYTES,
		FILE_READ_NO_SYMLINK | FILE_READ_MISSING_OK, &text, len, err);

	if (rc == 1)
		sc_error_set(err, SC_EXIT_USAGE, "no sandbox in '%s' (no %s; start one with 'slotctl sandbox up')",
			path, SANDBOX_STATE_FILE);
	return rc == 0 ? text : NULL;
}

static int json_int(const cJSON *o, const char *name, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v))
		return -1;
	*out = (int)v->valuedouble;
	return 0;
}

static int json_str(const cJSON *o, const char *name, char *out, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
		return -1;
	memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int node_from_json(const cJSON *o, struct sandbox_node *n, int count)
{
	int pid;

	if (json_int(o, "port", &n->port) < 0 || json_int(o, "cport", &n->cport) < 0 ||
	    json_int(o, "pid", &pid) < 0 || json_int(o, "master", &n->master) < 0 ||
	    json_str(o, "id", n->id, sizeof(n->id)) < 0)
		return -1;
	n->pid = pid;
	if (n->port <= 0 || n->port > 65535 || n->master >= count || n->master < -1)
		return -1;
	return 0;
}

/* Whether the state's format_version is one this slotctl reads: "2.x", or
 * the number 1 of the files written before 2.0 (the same fields). */
static bool known_version(const cJSON *root)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "format_version");
	int major, minor;

	if (cJSON_IsNumber(v))
		return v->valuedouble == 1;
	return cJSON_IsString(v) && json_doc_version(v->valuestring, &major, &minor) == 0 &&
		major == SANDBOX_FORMAT_MAJOR;
}

static int parse_state(const cJSON *root, struct sandbox *sb)
{
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
	int i = 0;
	const cJSON *n;

	if (!known_version(root) ||
	    json_str(root, "redis_server", sb->redis_server, sizeof(sb->redis_server)) < 0 ||
	    json_int(root, "masters", &sb->masters) < 0 || json_int(root, "replicas", &sb->replicas) < 0 ||
	    !cJSON_IsArray(nodes))
		return -1;
	if (json_int(root, "empty_masters", &sb->empty_masters) < 0)
		sb->empty_masters = 0; /* written by versions before --empty-masters */
	/* absent before --tls: plaintext */
	sb->tls = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "tls"));
	sb->tls_auth_clients = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "tls_auth_clients"));
	sb->count = cJSON_GetArraySize(nodes);
	if (sb->count < 1 || sb->count > SANDBOX_MAX_NODES)
		return -1;
	sb->nodes = calloc((size_t)sb->count, sizeof(*sb->nodes));
	if (!sb->nodes)
		return -1;
	cJSON_ArrayForEach(n, nodes)
		if (node_from_json(n, &sb->nodes[i++], sb->count) < 0)
			return -1;
	return 0;
}

int sandbox_state_read(const char *dir, struct sandbox *sb, struct sc_error *err)
{
	char path[PATH_MAX + 32];
	char *text;
	size_t len;
	cJSON *root;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, SANDBOX_STATE_FILE);
	text = read_text(path, &len, err);
	if (!text)
		return -1;
	rc = json_parse_strict(text, len, "sandbox state", &root, err);
	free(text);
	if (rc < 0)
		return sc_error_prefix(err, "'%s'", path);
	rc = parse_state(root, sb);
	cJSON_Delete(root);
	if (rc < 0) {
		free(sb->nodes);
		sb->nodes = NULL;
		return sc_error_set(err, SC_EXIT_USAGE,
			"'%s' is not a sandbox state file this slotctl understands (format_version %s)",
			path, SANDBOX_FORMAT_VERSION);
	}
	return 0;
}
