/* Internal to the pack checker (audit/pack_*.c). */
#ifndef TWOKEY_AUDIT_PACK_INT_H
#define TWOKEY_AUDIT_PACK_INT_H

#include "twokey/packcheck.h"

int pack_fail(struct tk_packcheck_report *rep, int err, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
int pack_name_ok(const char *s);

/* pack_approval.c: steps 4 and 5 of tk_pack_check. */
int pack_check_approvals(const struct tk_pack *p,
    struct tk_packcheck_report *rep);

#endif
