/*
 * Test helpers: read the shared tlog vectors in place
 * ($TWOKEY_TOP/../shared/cases/tlog) and decode their fields.
 */
#ifndef TWOKEY_TESTS_TLOG_CASES_H
#define TWOKEY_TESTS_TLOG_CASES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "twokey/merkle.h"

/* Loads the named vector file; fails the test if it cannot. */
json_t *tlog_cases_load(const char *file);

/* 0 if s is base64 of exactly 32 bytes (written to out), else -1. */
int tlog_b64_hash(const char *s, tk_merkle_hash out);
/* 0 if s is hex of exactly 32 bytes, else -1. */
int tlog_hex_hash(const char *s, tk_merkle_hash out);

/*
 * Decodes a JSON array of base64 hashes into out (TK_MERKLE_MAX_PROOF
 * slots); -1 if any is not 32 bytes or there are too many.
 */
int tlog_b64_proof(const json_t *arr, tk_merkle_hash *out, size_t *len);

/* A case's string field, or fails the test. */
const char *tlog_str(const json_t *c, const char *key);
/* A case's non-negative integer field, or fails the test. */
uint64_t tlog_u64(const json_t *c, const char *key);

#endif
