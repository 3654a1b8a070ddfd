/*
 * "twokey-verify log": the journal export check as a subcommand of the
 * twokey-verify program (export.h does the work).
 */
#ifndef TWOKEY_VERIFY_LOG_H
#define TWOKEY_VERIFY_LOG_H

/*
 * argv[0] is "log". Returns the process exit status: 0 only when the
 * whole export verifies, 1 when it does not (tampering, unreadable or
 * malformed export, wrong key or root), 2 on a usage error.
 */
int tk_verify_log_main(int argc, char **argv);

#endif
