/* Shared by the inventory's files in approvals/ only. */
#ifndef TWOKEY_INVENTORY_INT_H
#define TWOKEY_INVENTORY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "twokey/inventory.h"

struct tk_approvals;

/* Columns of the CSV form, and members of the JSON form, in order. */
enum tk_inv_type { INV_T_STRING, INV_T_LIST, INV_T_BOOL, INV_T_INT };

struct tk_inv_column {
	const char *name;
	enum tk_inv_type type;
	int required;
};

extern const struct tk_inv_column tk_inv_columns[];
extern const size_t tk_inv_ncolumns;

#define TK_INV_NFLAGS 5
extern const char *const tk_inv_flag_names[TK_INV_NFLAGS];

/*
 * Rolls back, journals "<action>.refused" by actor with the problems'
 * rows and fields (not their messages, which may quote the input), and
 * returns err (or TK_INV_ERR_JOURNAL).
 */
int tk_inv_refuse(struct tk_approvals *ap, const char *actor,
    const char *action, const char *obj, int err, const json_t *problems);

/* Appends {"row","field","message"} to problems (may be NULL). */
void tk_inv_problem(json_t *problems, size_t row, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One account from its JSON form; returns the number of problems added. */
size_t tk_inv_account_from_json(json_t *o, size_t row,
    struct tk_inv_account *a, json_t *problems);

int tk_inv_id_ok(const char *s);
/* Why a credential reference is refused, or NULL when it is good. */
const char *tk_inv_ref_problem(const char *ref);
/* "YYYY-MM-DDTHH:MM:SSZ" <-> Unix seconds (after the epoch). */
int tk_inv_time_parse(const char *s, int64_t *out);
void tk_inv_time_format(int64_t t, char out[21]);

/*
 * Strict RFC 4180: records of comma-separated fields, CRLF or LF line
 * ends, fields with a comma, quote or line break quoted, quotes inside
 * doubled, every record as long as the first. A leading UTF-8 BOM is
 * skipped. Returns an array of {"row": N, "cells": [strings]}; problems
 * get every record that breaks the rules (and the parser resumes at the
 * next line). NULL only when out of memory.
 */
json_t *tk_inv_csv_parse(const char *buf, size_t len, json_t *problems);

/* Appends one CSV field (quoted when needed) to a growing buffer. */
struct tk_inv_buf {
	char *p;
	size_t len, cap;
	int failed;
};
void tk_inv_buf_add(struct tk_inv_buf *b, const char *s, size_t n);
void tk_inv_csv_field(struct tk_inv_buf *b, const char *s, int last);

/* Store (inventory_store.c). */
int tk_inv_store_schema(struct tk_approvals *ap);
int tk_inv_store_get(struct tk_approvals *ap, const char *id,
    struct tk_inv_account *out, struct tk_person *owner);
int tk_inv_store_put(struct tk_approvals *ap, const struct tk_inv_account *a,
    int64_t owner_id, int replace);
int tk_inv_store_delete(struct tk_approvals *ap, const char *id);
int tk_inv_store_owner(struct tk_approvals *ap, const char *name,
    int64_t *id, enum tk_person_state *state);
/* The account's JSON form without the observations (last_*). */
json_t *tk_inv_config_json(const struct tk_inv_account *a);
/* An account with flags, owner_state, rotation_due (report form). */
json_t *tk_inv_account_report(const struct tk_inv_account *a,
    const struct tk_person *owner, const struct tk_policy *p, int64_t now,
    unsigned int *flags);
/* "active", "suspended", "left", or "unknown" for NULL. */
const char *tk_inv_state_name(const struct tk_person *p);

#endif
