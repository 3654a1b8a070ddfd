/* Internal to evidence/: the pack's files while it is being built. */
#ifndef TWOKEY_EVIDENCE_PACK_INT_H
#define TWOKEY_EVIDENCE_PACK_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "twokey/pack.h"

struct pfile {
	char *name;		/* relative to the pack folder */
	uint8_t *data;
	size_t len;
};

/* Everything one build gathers; documents are owned. */
struct pbuild {
	const struct tk_pack_config *cfg;
	int64_t as_of;
	struct pfile *files;
	size_t nfiles, cap;
	size_t bytes;
	uint64_t jfirst, jend;		/* journal slice; equal: none */
	json_t *access;			/* access.json */
	json_t *grants;			/* grants.json */
	json_t *requests;		/* array of request evidence */
	json_t *drift;			/* array */
	json_t *inventory;
	json_t *rotation;
	json_t *counts;			/* pack.json "counts" */
};

/* Adds a copy of data as name; TK_PACK_ERR_TOOBIG past the limit. */
int pack_add(struct pbuild *b, const char *name, const void *data,
    size_t len);
/* Adds doc as indented, key-sorted JSON with a final newline. */
int pack_add_json(struct pbuild *b, const char *name, const json_t *doc);

void pbuild_clear(struct pbuild *b);
/* SHA256SUMS over the files so far (sorted by name); its digest in hex. */
int pack_manifest(struct pbuild *b, char sums_hex[65]);
/* SHA256SUMS.p7s over the last file added (SHA256SUMS). */
int pack_sign(struct pbuild *b);
/* Every file into a deterministic tar.gz; caller frees *out. */
int pack_archive(struct pbuild *b, uint8_t **out, size_t *len);
/* Inventory accounts with a non-empty "flags" array. */
json_int_t pack_flagged(const json_t *accounts);

/* pack_docs.c: the documents from the store and the journal. */
int pack_docs(struct pbuild *b);
/* report.c: report.html from the gathered documents. */
int pack_report(struct pbuild *b);

#endif
